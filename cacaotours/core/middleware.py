"""Request logging: one JSON line per request, tagged with a request id.

``RequestLogMiddleware`` is the first middleware, so the duration covers the whole stack. It
takes the request id from the reverse proxy's ``X-Request-ID`` header when that looks like an id
(letters, digits, ``._-``, at most 64), otherwise makes one; the id is on ``request.request_id``
and is echoed in the response's ``X-Request-ID``. The line (logger ``cacaotours.request``, INFO)
has method, path, status, duration in milliseconds, user id (null for visitors) and request id.
Secrets that travel in paths (invitation tokens, password-reset and e-mail confirmation keys) are
replaced by ``[redacted]``; query strings are never logged.
"""

import logging
import re
import time
import uuid

logger = logging.getLogger("cacaotours.request")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# URL keyword arguments that carry a secret: the portal invitation token, allauth's reset and confirmation keys.
SECRET_URL_KWARGS = ("token", "key", "uidb36")
REDACTED = "[redacted]"


def request_id_for(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def loggable_path(request) -> str:
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name in SECRET_URL_KWARGS:
            value = match.kwargs.get(name)
            if isinstance(value, str) and value:
                path = path.replace(value, REDACTED)
    return path


def _user_id(request):
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request.request_id
        if logger.isEnabledFor(logging.INFO):
            fields = {
                "event": "request",
                "method": request.method,
                "path": loggable_path(request),
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "request_id": request.request_id,
            }
            logger.info("%s %s %s", request.method, fields["path"], response.status_code, extra={"fields": fields})
        return response
