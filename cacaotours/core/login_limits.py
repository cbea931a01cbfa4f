"""Rate limit of the Django admin's sign-in form (allauth limits its own forms: ACCOUNT_RATE_LIMITS).

Failed attempts are counted in the cache (Redis in production, shared by every web process)
per client IP and per submitted e-mail address, in a fixed window that starts at the first
failure: ``ADMIN_LOGIN_FAILURES_PER_IP`` and ``ADMIN_LOGIN_FAILURES_PER_USERNAME`` within
``ADMIN_LOGIN_WINDOW_SECONDS``. Once either count is reached, further attempts are refused
without checking the password until the window ends; a successful sign-in clears the
address's count. The client IP is allauth's (``ALLAUTH_TRUSTED_PROXY_COUNT`` behind a proxy),
so both limits agree on who the client is. If the cache is down, sign-in is not blocked.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PREFIX = "admin-login-failures"


def client_ip(request) -> str:
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except Exception:  # no usable address (misconfigured proxy count): one shared bucket
        return "unknown"


def _keys(*, ip: str, username: str) -> dict[str, str]:
    digest = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return {"ip": f"{PREFIX}:ip:{ip}", "username": f"{PREFIX}:user:{digest}"}


def _limits() -> dict[str, int]:
    return {"ip": settings.ADMIN_LOGIN_FAILURES_PER_IP, "username": settings.ADMIN_LOGIN_FAILURES_PER_USERNAME}


def admin_login_blocked(*, ip: str, username: str) -> bool:
    """Whether this IP or this address has used up its failed attempts in the current window."""
    keys = _keys(ip=ip, username=username)
    try:
        counts = cache.get_many(list(keys.values()))
    except Exception:
        logger.warning("admin login limit: cache unavailable, not limiting", exc_info=True)
        return False
    limits = _limits()
    return any(counts.get(key, 0) >= limits[name] for name, key in keys.items())


def admin_login_failure_record(*, ip: str, username: str) -> None:
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS
    try:
        for key in _keys(ip=ip, username=username).values():
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
    except Exception:
        logger.warning("admin login limit: cache unavailable, failure not counted", exc_info=True)


def admin_login_success_record(*, ip: str, username: str) -> None:
    try:
        cache.delete(_keys(ip=ip, username=username)["username"])
    except Exception:
        logger.warning("admin login limit: cache unavailable", exc_info=True)
