"""A small Stripe-shaped HTTP server on loopback, for stripe-python to talk to in tests.

Only the third party is faked: our gateway uses the real stripe-python client (retries,
idempotency keys, form encoding, error mapping), pointed here with ``STRIPE_API_BASE``.

Implemented (object shapes from Stripe's API reference, trimmed to the fields that matter):

* ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``GET /v1/checkout/sessions/{id}/line_items``
* ``GET /v1/payment_intents/{id}`` (``latest_charge`` once paid), ``GET /v1/charges/{id}``
* ``POST /v1/refunds`` (refuses more than what remains), ``GET /v1/refunds/{id}``
* Connect: ``POST /v1/accounts`` (express), ``GET /v1/accounts/{id}``, ``POST /v1/account_links``;
  ``POST /v1/transfers`` (refuses a destination whose ``transfers`` capability is not active,
  an unknown destination or source charge, and more than the source charge),
  ``GET /v1/transfers`` (``transfer_group``, ``destination``, ``limit``; newest first),
  ``GET /v1/transfers/{id}``, ``POST /v1/transfers/{id}/reversals`` (400 ``balance_insufficient``
  when the connected account's balance, if set with ``set_balance``, is too low).
* ``Idempotency-Key`` on POST: same key + same parameters replays the first response with
  ``Idempotent-Replayed: true``; same key + other parameters is a 400 ``idempotency_error``.
  ``forget_idempotency_keys()`` clears that memory (as Stripe does after 24 hours).
* Fault injection: ``fail_next(n, status=500|429)``, ``fail_for(seconds, status=500)`` (an
  outage: every request refused for that long), ``delay_next(n, seconds)`` (the request
  still runs after the delay, as a request that timed out on the client may well have),
  ``latency`` (seconds added to every request); ``forget_transfer`` and
  ``add_stray_transfer`` put Stripe and the ledger out of step for reconciliation tests.
* ``requests``: a log of every request (method, path, parsed params, headers, status, the
  time it arrived); ``wait_for_arrival`` waits until a request has arrived (and may still
  be delayed), e.g. to kill a worker that is inside a Stripe call.
* Events the way Stripe would send them: ``complete_session``, ``expire_session``,
  ``charge_refunded_event``, ``dispute_event``, ``account_updated_event``; and ``sign()``,
  Stripe's webhook signature.

Usage::

    with StripeServer() as server:
        settings.STRIPE_API_BASE = server.url
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"

# Form fields Stripe types as integers (everything else stays a string, as sent).
INTEGER_FIELDS = {"unit_amount", "quantity", "amount", "expires_at", "limit"}


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's ``Stripe-Signature`` header: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _random_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# -- form decoding ------------------------------------------------------------------------


def _split_key(key: str) -> list[str]:
    """``line_items[0][price_data][unit_amount]`` → ``["line_items", "0", "price_data", "unit_amount"]``."""
    head, _, rest = key.partition("[")
    parts = [head]
    if rest:
        parts += re.findall(r"([^\[\]]*)\]", "[" + rest)
    return parts


def _listify(value):
    if isinstance(value, dict):
        value = {key: _listify(item) for key, item in value.items()}
        if value and all(key.isdigit() for key in value):
            indexes = sorted(value, key=int)
            if [int(index) for index in indexes] == list(range(len(indexes))):
                return [value[index] for index in indexes]
    return value


def decode_form(body: str) -> dict:
    """Stripe's form encoding (nested keys with brackets) → nested dicts and lists."""
    result: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _split_key(key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        leaf = parts[-1]
        if leaf in INTEGER_FIELDS and value.lstrip("-").isdigit():
            node[leaf] = int(value)
        else:
            node[leaf] = value
    return _listify(result)


# -- errors ---------------------------------------------------------------------------------


class StripeHTTPError(Exception):
    def __init__(self, status: int, message: str, *, type_="invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def _missing(kind: str, object_id: str) -> StripeHTTPError:
    return StripeHTTPError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id")


def _require(params: dict, name: str):
    if params.get(name) in (None, ""):
        raise StripeHTTPError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return params[name]


# -- the log ----------------------------------------------------------------------------------


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict
    headers: dict  # lower-case names
    status: int = 0
    replayed: bool = False
    injected: str = ""  # "500", "429" or "delay" when a fault was injected
    received_at: float = 0.0  # time.time() when the request arrived (before any delay)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Fault:
    kind: str  # "status" or "delay"
    status: int = 0
    seconds: float = 0.0
    should_retry: bool | None = None
    after_running: bool = False
    method: str | None = None  # only requests with this method (None: any)
    path: str | None = None  # only requests to this path ("*" suffix: prefix; None: any)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and method != self.method:
            return False
        if self.path is None:
            return True
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path


@dataclass
class _State:
    sessions: dict = field(default_factory=dict)
    line_items: dict = field(default_factory=dict)
    payment_intents: dict = field(default_factory=dict)
    charges: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    balance_transactions: dict = field(default_factory=dict)
    idempotency: dict = field(default_factory=dict)  # key → (fingerprint, status, body)
    accounts: dict = field(default_factory=dict)
    transfers: dict = field(default_factory=dict)  # id → transfer, in creation order
    balances: dict = field(default_factory=dict)  # account id → available balance (absent: unlimited)


class StripeServer:
    """The fake: start() it, point stripe-python at ``url``, stop() it."""

    def __init__(self, *, api_key_prefix: str = "sk_test_"):
        self.api_key_prefix = api_key_prefix
        self.requests: list[LoggedRequest] = []
        self._state = _State()
        self._faults: list[_Fault] = []
        self._outage_until = 0.0  # time.monotonic() until which every request is refused (fail_for)
        self._outage_status = 500
        self._lock = threading.RLock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.latency = 0.0  # seconds added to every request
        self.arrivals: list[tuple[str, str, float]] = []  # (method, path, time) as requests arrive

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> StripeServer:
        server = self

        class Handler(_Handler):
            stripe = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="stripe-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- fault injection -----------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, status: int = 500, should_retry: bool | None = None, after_running: bool = False
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (500 api_error or 429 rate limit).

        By default the request is refused before it runs. With ``after_running=True`` it runs
        (and its idempotency key is saved) and only the answer is lost, as when a response
        never reaches the client. A 429 carries ``Stripe-Should-Retry: true`` by default, as
        Stripe's lock-timeout 429s do (stripe-python retries a 429 only when told to); pass
        ``should_retry=False`` for a plain rate limit that the client must not retry.
        """
        if should_retry is None and status == 429:
            should_retry = True
        with self._lock:
            self._faults += [
                _Fault("status", status=status, should_retry=should_retry, after_running=after_running)
                for _ in range(n)
            ]

    def fail_for(self, seconds: float, *, status: int = 500) -> None:
        """An outage: answer every request with ``status`` (refused before it runs) for ``seconds``.

        Queued ``fail_next``/``delay_next`` faults wait until it is over. ``fail_for(0)`` ends it.
        """
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_status = status

    @property
    def in_outage(self) -> bool:
        return time.monotonic() < self._outage_until

    def delay_next(
        self, n: int = 1, seconds: float = 1.0, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Hold the next ``n`` requests ``seconds`` before running them (client timeouts).

        With ``method`` and/or ``path`` (``*`` suffix: prefix) only matching requests are held,
        e.g. ``delay_next(1, 5, method="POST", path="/v1/transfers")``.
        """
        with self._lock:
            self._faults += [_Fault("delay", seconds=seconds, method=method, path=path) for _ in range(n)]

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being served (a delayed one may outlive the client's timeout)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout):
                raise TimeoutError("the Stripe server is still serving a request")

    def wait_for_arrival(self, method: str, path: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` requests for ``method path`` (``*`` suffix: prefix) have arrived.

        A request counts as soon as it has been received whole, before an injected delay: the
        client is then "inside the Stripe call".
        """
        prefix = path[:-1] if path.endswith("*") else None

        def arrived() -> int:
            return sum(
                1
                for m, p, _ in self.arrivals
                if m == method and (p.startswith(prefix) if prefix is not None else p == path)
            )

        with self._idle:
            if not self._idle.wait_for(lambda: arrived() >= count, timeout=timeout):
                raise TimeoutError(f"{count} × {method} {path} did not arrive within {timeout} s")

    def _enter(self) -> None:
        with self._idle:
            self._in_flight += 1

    def _arrived(self, method: str, path: str) -> None:
        """The whole request (headers and body) has been received."""
        with self._idle:
            self.arrivals.append((method, path, time.time()))
            self._idle.notify_all()

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _take_fault(self, method: str = "", path: str = "") -> _Fault | None:
        """The first queued fault that applies to this request (faults without a filter apply to any)."""
        with self._lock:
            if time.monotonic() < self._outage_until:
                return _Fault("status", status=self._outage_status)
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    return self._faults.pop(index)
            return None

    # -- the log ---------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        """Logged requests with this method whose path is ``path`` (a prefix ending in ``*`` matches more)."""
        if path.endswith("*"):
            return [r for r in self.requests if r.method == method and r.path.startswith(path[:-1])]
        return [r for r in self.requests if r.method == method and r.path == path]

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    # -- objects (read access for tests) ---------------------------------------------------

    @property
    def sessions(self) -> dict:
        return self._state.sessions

    @property
    def payment_intents(self) -> dict:
        return self._state.payment_intents

    @property
    def charges(self) -> dict:
        return self._state.charges

    @property
    def refunds(self) -> dict:
        return self._state.refunds

    @property
    def balance_transactions(self) -> dict:
        return self._state.balance_transactions

    @property
    def transfers(self) -> dict:
        return self._state.transfers

    @property
    def accounts(self) -> dict:
        return self._state.accounts

    # -- Connect helpers (test set-up) ------------------------------------------------------

    def add_account(self, account_id: str | None = None, *, transfers: str = "active", country: str = "PE") -> str:
        """A connected Express account whose ``transfers`` capability is ``transfers``; return its id."""
        with self._lock:
            account = self._account_new(
                {"country": country, "capabilities": {"transfers": {"requested": "true"}}}, account_id
            )
            self._account_capability(account, transfers)
            return account["id"]

    def set_transfers_capability(self, account_id: str, status: str = "active") -> dict:
        """``active``, ``inactive`` or ``pending``: whether the account can receive transfers."""
        with self._lock:
            account = self._state.accounts[account_id]
            self._account_capability(account, status)
            return account

    def set_balance(self, account_id: str, amount: int | None) -> None:
        """The connected account's available balance (None: unlimited); reversals need enough of it."""
        with self._lock:
            if amount is None:
                self._state.balances.pop(account_id, None)
            else:
                self._state.balances[account_id] = int(amount)

    def balance(self, account_id: str) -> int | None:
        with self._lock:
            return self._state.balances.get(account_id)

    def forget_idempotency_keys(self) -> None:
        """Forget every idempotency key, as Stripe does after 24 hours."""
        with self._lock:
            self._state.idempotency.clear()

    def forget_transfer(self, transfer_id: str) -> dict:
        """Remove a transfer from the server's memory (the ledger then has one Stripe does not)."""
        with self._lock:
            return self._state.transfers.pop(transfer_id)

    def add_stray_transfer(
        self,
        *,
        destination: str,
        amount: int,
        currency: str = "pen",
        transfer_group: str | None = None,
        metadata: dict | None = None,
    ) -> dict:
        """A transfer made outside the platform (the dashboard): Stripe has it, the ledger does not."""
        with self._lock:
            return self._transfer_new(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "destination": destination,
                    "transfer_group": transfer_group,
                    "metadata": dict(metadata or {}),
                }
            )

    # -- events, as Stripe would send them -------------------------------------------------

    def event(self, type_: str, obj: dict) -> dict:
        return {
            "id": _random_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    def complete_session(self, session_id: str) -> dict:
        """The traveller paid: create the PaymentIntent and its Charge; return ``checkout.session.completed``."""
        with self._lock:
            session = self._state.sessions.get(session_id)
            if session is None:
                raise KeyError(session_id)
            if session["status"] != "open":
                raise ValueError(f"session {session_id} is {session['status']}")
            intent_data = session.get("_payment_intent_data") or {}
            now = int(time.time())
            intent_id, charge_id, txn_id = _random_id("pi"), _random_id("ch"), _random_id("txn")
            amount, currency = session["amount_total"], session["currency"]
            fee = self.fee_for(amount)
            self._state.balance_transactions[txn_id] = {
                "id": txn_id,
                "object": "balance_transaction",
                "amount": amount,
                "currency": currency,
                "fee": fee,
                "net": amount - fee,
                "source": charge_id,
                "status": "pending",
                "type": "charge",
            }
            self._state.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "balance_transaction": txn_id,
                "captured": True,
                "created": now,
                "currency": currency,
                "disputed": False,
                "livemode": False,
                "metadata": dict(intent_data.get("metadata") or {}),
                "paid": True,
                "payment_intent": intent_id,
                "payment_method": _random_id("pm"),
                "refunded": False,
                "status": "succeeded",
                "transfer_group": intent_data.get("transfer_group"),
            }
            self._state.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": amount,
                "capture_method": "automatic_async",
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                "confirmation_method": "automatic",
                "created": now,
                "currency": currency,
                "customer": None,
                "description": None,
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": dict(intent_data.get("metadata") or {}),
                "payment_method": self._state.charges[charge_id]["payment_method"],
                "payment_method_types": ["card"],
                "status": "succeeded",
                "transfer_group": intent_data.get("transfer_group"),
            }
            session.update(
                payment_intent=intent_id,
                payment_status="paid",
                status="complete",
                customer_details={"email": session.get("customer_email"), "name": None},
            )
            return self.event("checkout.session.completed", self._public(session))

    @staticmethod
    def fee_for(amount: int) -> int:
        """The fake's processing fee: 3.6% + 100 minor units, rounded half up."""
        return (amount * 36 + 500) // 1000 + 100

    def expire_session(self, session_id: str) -> dict:
        with self._lock:
            session = self._state.sessions[session_id]
            session.update(status="expired")
            return self.event("checkout.session.expired", self._public(session))

    def charge_refunded_event(self, charge_id: str) -> dict:
        with self._lock:
            return self.event("charge.refunded", self._state.charges[charge_id])

    def dispute_event(self, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None) -> dict:
        with self._lock:
            charge = self._state.charges[charge_id]
            charge["disputed"] = True
            dispute = {
                "id": _random_id("dp"),
                "object": "dispute",
                "amount": charge["amount"] if amount is None else amount,
                "charge": charge_id,
                "created": int(time.time()),
                "currency": charge["currency"],
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "needs_response",
            }
            return self.event("charge.dispute.created", dispute)

    def account_updated_event(self, account_id: str, transfers: str = "active", **changes) -> dict:
        """Set the account's ``transfers`` capability and return ``account.updated`` for it.

        ``payouts_enabled``, ``charges_enabled`` and ``details_submitted`` follow the capability
        unless given in ``changes``.
        """
        with self._lock:
            account = self._state.accounts[account_id]
            self._account_capability(account, transfers)
            account.update(changes)
            return self.event("account.updated", account)

    def refund_out_of_band(self, charge_id: str, amount: int) -> dict:
        """A refund made in Stripe's dashboard (no API call from us)."""
        with self._lock:
            return self._refund_create(
                {"payment_intent": self._state.charges[charge_id]["payment_intent"], "amount": amount}
            )

    @staticmethod
    def _public(obj: dict) -> dict:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    # -- request handling ------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict, dict]:
        """Run one request; return (status, body, extra headers)."""
        auth = headers.get("authorization", "")
        if not auth.startswith(f"Bearer {self.api_key_prefix}"):
            raise StripeHTTPError(401, "Invalid API Key provided.", type_="invalid_request_error")
        key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            if key:
                fingerprint = json.dumps([method, path, params], sort_keys=True)
                saved = self._state.idempotency.get(key)
                if saved is not None:
                    if saved[0] != fingerprint:
                        raise StripeHTTPError(
                            400,
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{key}' if you meant to execute a different "
                            "request.",
                            type_="idempotency_error",
                        )
                    return saved[1], saved[2], {"Idempotent-Replayed": "true"}
            status, body = self._route(method, path, params)
            if params.get("expand") and 200 <= status < 300:
                body = self._expanded(body, params["expand"])
            if key and 200 <= status < 300:
                self._state.idempotency[key] = (fingerprint, status, body)
            return status, body, {}

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        parts = [part for part in path.split("/") if part]
        if parts[:1] != ["v1"]:
            raise StripeHTTPError(404, f"Unrecognized request URL ({method}: {path}).")
        parts = parts[1:]
        match method, parts:
            case "POST", ["checkout", "sessions"]:
                return 200, self._session_create(params)
            case "GET", ["checkout", "sessions", session_id]:
                return 200, self._public(self._get(self._state.sessions, "checkout.session", session_id))
            case "GET", ["checkout", "sessions", session_id, "line_items"]:
                self._get(self._state.sessions, "checkout.session", session_id)
                items = self._state.line_items[session_id]
                return 200, {"object": "list", "data": items, "has_more": False, "url": path}
            case "GET", ["payment_intents", intent_id]:
                return 200, self._get(self._state.payment_intents, "payment_intent", intent_id)
            case "GET", ["charges", charge_id]:
                return 200, self._get(self._state.charges, "charge", charge_id)
            case "GET", ["balance_transactions", txn_id]:
                return 200, self._get(self._state.balance_transactions, "balance_transaction", txn_id)
            case "POST", ["refunds"]:
                return 200, self._refund_create(params)
            case "GET", ["refunds", refund_id]:
                return 200, self._get(self._state.refunds, "refund", refund_id)
            case "POST", ["accounts"]:
                return 200, self._account_new(params)
            case "GET", ["accounts", account_id]:
                return 200, self._get(self._state.accounts, "account", account_id)
            case "POST", ["account_links"]:
                return 200, self._account_link_create(params)
            case "POST", ["transfers"]:
                return 200, self._transfer_create(params)
            case "GET", ["transfers"]:
                return 200, self._transfer_list(params, path)
            case "GET", ["transfers", transfer_id]:
                return 200, self._get(self._state.transfers, "transfer", transfer_id)
            case "POST", ["transfers", transfer_id, "reversals"]:
                return 200, self._reversal_create(transfer_id, params)
        raise StripeHTTPError(404, f"Unrecognized request URL ({method}: {path}).")

    # Stripe's ``expand[]``: an id field replaced by its object, dotted paths for nested fields.
    _EXPANDABLE = {"ch_": "charges", "txn_": "balance_transactions", "pi_": "payment_intents", "tr_": "transfers"}

    def _expanded(self, body: dict, paths: list[str]) -> dict:
        body = copy.deepcopy(body)
        for dotted in paths:
            node = body
            for field_name in dotted.split("."):
                value = node.get(field_name) if isinstance(node, dict) else None
                if isinstance(value, str):
                    prefix = next((p for p in self._EXPANDABLE if value.startswith(p)), None)
                    if prefix is None:
                        raise StripeHTTPError(400, f"This property cannot be expanded ({dotted}).", param="expand")
                    value = node[field_name] = copy.deepcopy(getattr(self._state, self._EXPANDABLE[prefix])[value])
                node = value
        return body

    @staticmethod
    def _get(objects: dict, kind: str, object_id: str) -> dict:
        if object_id not in objects:
            raise _missing(kind, object_id)
        return objects[object_id]

    def _session_create(self, params: dict) -> dict:
        mode = _require(params, "mode")
        if mode != "payment":
            raise StripeHTTPError(400, "This fake supports mode=payment only.", param="mode")
        success_url = _require(params, "success_url")
        line_items = _require(params, "line_items")
        if not isinstance(line_items, list):
            raise StripeHTTPError(400, "Invalid array", param="line_items")
        now = int(time.time())
        expires_at = params.get("expires_at", now + 24 * 3600)
        if not isinstance(expires_at, int) or not (now + 30 * 60 <= expires_at <= now + 24 * 3600):
            raise StripeHTTPError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        currencies, total, items = set(), 0, []
        for index, item in enumerate(line_items):
            price_data = item.get("price_data") or {}
            for name in ("currency", "unit_amount"):
                if price_data.get(name) in (None, ""):
                    param = f"line_items[{index}][price_data][{name}]"
                    raise StripeHTTPError(
                        400, f"Missing required param: {param}.", code="parameter_missing", param=param
                    )
            product_name = (price_data.get("product_data") or {}).get("name")
            if not product_name:
                param = f"line_items[{index}][price_data][product_data][name]"
                raise StripeHTTPError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or quantity < 1:
                raise StripeHTTPError(
                    400, "Quantity must be a positive integer.", param=f"line_items[{index}][quantity]"
                )
            unit_amount = price_data["unit_amount"]
            if not isinstance(unit_amount, int) or unit_amount < 0:
                raise StripeHTTPError(400, "Invalid integer", param=f"line_items[{index}][price_data][unit_amount]")
            currencies.add(price_data["currency"])
            total += unit_amount * quantity
            items.append(
                {
                    "id": _random_id("li"),
                    "object": "item",
                    "amount_subtotal": unit_amount * quantity,
                    "amount_total": unit_amount * quantity,
                    "currency": price_data["currency"],
                    "description": product_name,
                    "price": {"object": "price", "currency": price_data["currency"], "unit_amount": unit_amount},
                    "quantity": quantity,
                }
            )
        if len(currencies) != 1:
            raise StripeHTTPError(400, "All line items must have the same currency.", param="line_items")
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currencies.pop(),
            "customer": None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": dict(params.get("metadata") or {}),
            "mode": mode,
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "_payment_intent_data": dict(params.get("payment_intent_data") or {}),
        }
        self._state.sessions[session_id] = session
        self._state.line_items[session_id] = items
        return self._public(session)

    def _refund_create(self, params: dict) -> dict:
        intent_id = params.get("payment_intent")
        charge_id = params.get("charge")
        if not intent_id and not charge_id:
            raise StripeHTTPError(
                400,
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if intent_id:
            intent = self._state.payment_intents.get(intent_id)
            if intent is None:
                raise _missing("payment_intent", intent_id)
            if intent["status"] != "succeeded":
                raise StripeHTTPError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
            charge_id = intent["latest_charge"]
        charge = self._state.charges.get(charge_id)
        if charge is None:
            raise _missing("charge", charge_id)
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeHTTPError(400, f"Charge {charge_id} has already been refunded.", code="charge_already_refunded")
        amount = params.get("amount", remaining)
        if not isinstance(amount, int) or amount < 1:
            raise StripeHTTPError(400, "Invalid positive integer", param="amount")
        if amount > remaining:
            raise StripeHTTPError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund_id = _random_id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": _random_id("txn"),
            "charge": charge_id,
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self._state.refunds[refund_id] = refund
        return refund

    # -- Connect -----------------------------------------------------------------------------

    def _account_new(self, params: dict, account_id: str | None = None) -> dict:
        kind = params.get("type", "express")
        if kind not in ("express", "custom", "standard"):
            raise StripeHTTPError(400, "Invalid type: must be one of custom, express, or standard", param="type")
        country = params.get("country", "PE")
        account_id = account_id or "acct_" + secrets.token_hex(8)
        requested = params.get("capabilities") or {}
        account = {
            "id": account_id,
            "object": "account",
            "business_profile": {"mcc": None, "name": None, "url": None},
            "business_type": None,
            "capabilities": dict.fromkeys(requested, "inactive"),
            "charges_enabled": False,
            "country": country,
            "created": int(time.time()),
            "default_currency": "pen" if country == "PE" else "usd",
            "details_submitted": False,
            "email": params.get("email"),
            "metadata": dict(params.get("metadata") or {}),
            "payouts_enabled": False,
            "requirements": {"currently_due": [], "disabled_reason": "requirements.past_due", "eventually_due": []},
            "type": kind,
        }
        self._state.accounts[account_id] = account
        return account

    @staticmethod
    def _account_capability(account: dict, status: str) -> None:
        if status not in ("active", "inactive", "pending"):
            raise ValueError(status)
        account["capabilities"]["transfers"] = status
        active = status == "active"
        account.update(charges_enabled=active, payouts_enabled=active, details_submitted=active)
        account["requirements"]["disabled_reason"] = None if active else "requirements.past_due"

    def _account_link_create(self, params: dict) -> dict:
        account_id = _require(params, "account")
        for name in ("refresh_url", "return_url", "type"):
            _require(params, name)
        if params["type"] not in ("account_onboarding", "account_update"):
            raise StripeHTTPError(
                400, "Invalid type: must be one of account_onboarding or account_update", param="type"
            )
        if account_id not in self._state.accounts:
            raise StripeHTTPError(400, f"No such account: '{account_id}'", code="resource_missing", param="account")
        now = int(time.time())
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"https://connect.stripe.com/setup/e/{account_id}/{secrets.token_urlsafe(12)}",
        }

    def _transfer_create(self, params: dict) -> dict:
        amount = _require(params, "amount")
        currency = _require(params, "currency").lower()
        destination = _require(params, "destination")
        if not isinstance(amount, int) or amount < 1:
            raise StripeHTTPError(400, "Invalid positive integer", param="amount")
        account = self._state.accounts.get(destination)
        if account is None:
            raise StripeHTTPError(
                400, f"No such destination: '{destination}'", code="resource_missing", param="destination"
            )
        if account["capabilities"].get("transfers") != "active":
            raise StripeHTTPError(
                400,
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        source = params.get("source_transaction")
        if source:
            charge = self._state.charges.get(source)
            if charge is None:
                raise StripeHTTPError(
                    400, f"No such charge: '{source}'", code="resource_missing", param="source_transaction"
                )
            if charge["currency"] != currency:
                raise StripeHTTPError(
                    400,
                    f"The currency of source_transaction's balance transaction ({charge['currency']}) must be the "
                    f"same as the transfer currency ({currency}).",
                    param="currency",
                )
            used = sum(t["amount"] for t in self._state.transfers.values() if t["source_transaction"] == source)
            if used + amount > charge["amount"]:
                raise StripeHTTPError(
                    400,
                    f"Transfers from source_transaction {source} cannot exceed its amount ({charge['amount']}); "
                    f"{used} is already transferred.",
                    param="amount",
                )
        return self._transfer_new(params)

    def _transfer_new(self, params: dict) -> dict:
        transfer_id = _random_id("tr")
        destination = params["destination"]
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": params["amount"],
            "amount_reversed": 0,
            "balance_transaction": _random_id("txn"),
            "created": int(time.time()),
            "currency": params["currency"].lower(),
            "description": params.get("description"),
            "destination": destination,
            "destination_payment": _random_id("py"),
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": params.get("source_transaction"),
            "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
        self._state.transfers[transfer_id] = transfer
        if destination in self._state.balances:
            self._state.balances[destination] += transfer["amount"]
        return transfer

    def _transfer_list(self, params: dict, path: str) -> dict:
        limit = params.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise StripeHTTPError(400, "Invalid integer: limit must be between 1 and 100", param="limit")
        found = [
            transfer
            for transfer in reversed(self._state.transfers.values())  # newest first, as Stripe lists
            if all(params.get(name) in (None, transfer[name]) for name in ("transfer_group", "destination"))
        ]
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": path}

    def _reversal_create(self, transfer_id: str, params: dict) -> dict:
        transfer = self._get(self._state.transfers, "transfer", transfer_id)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = params.get("amount", remaining)
        if not isinstance(amount, int) or amount < 1:
            raise StripeHTTPError(400, "Invalid positive integer", param="amount")
        if amount > remaining:
            raise StripeHTTPError(
                400,
                f"You have requested to reverse {amount} but only {remaining} remains on this transfer.",
                param="amount",
            )
        destination = transfer["destination"]
        balance = self._state.balances.get(destination)
        if balance is not None and balance < amount:
            raise StripeHTTPError(
                400,
                "Insufficient funds in the connected account's balance to reverse this transfer.",
                code="balance_insufficient",
            )
        if balance is not None:
            self._state.balances[destination] = balance - amount
        reversal = {
            "id": _random_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": _random_id("txn"),
            "created": int(time.time()),
            "currency": transfer["currency"],
            "destination_payment_refund": _random_id("pyr"),
            "metadata": dict(params.get("metadata") or {}),
            "source_refund": None,
            "transfer": transfer_id,
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, reversal)
        transfer["reversals"]["total_count"] += 1
        return reversal


class _Handler(BaseHTTPRequestHandler):
    stripe: StripeServer
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and timeouts stay clean

    def log_message(self, format, *args):  # quiet in tests
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        self.stripe._enter()
        try:
            self._serve_one(method)
        finally:
            self.stripe._leave()

    def _serve_one(self, method: str) -> None:
        received_at = time.time()
        if self.stripe.latency:
            time.sleep(self.stripe.latency)
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self.stripe._arrived(method, url.path)
        params = decode_form(url.query if method == "GET" else body)
        headers = {name.lower(): value for name, value in self.headers.items()}
        entry = LoggedRequest(method=method, path=url.path, params=params, headers=headers, received_at=received_at)
        fault = self.stripe._take_fault(method, url.path)
        extra: dict = {}
        if fault is not None and fault.kind == "status":
            entry.injected = str(fault.status)
            if fault.after_running:
                with contextlib.suppress(StripeHTTPError):
                    self.stripe.handle(method, url.path, params, headers)
            status = fault.status
            if status == 429:
                payload = {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "lock_timeout" if fault.should_retry else "rate_limit",
                        "message": "Too many requests hit the API too quickly.",
                    }
                }
            else:
                payload = {"error": {"type": "api_error", "message": "An unknown error occurred (injected)."}}
            if fault.should_retry is not None:
                extra["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
        else:
            if fault is not None:
                entry.injected = "delay"
                time.sleep(fault.seconds)
            try:
                status, payload, extra = self.stripe.handle(method, url.path, params, headers)
            except StripeHTTPError as exc:
                status, payload = exc.status, exc.body
            entry.replayed = extra.get("Idempotent-Replayed") == "true"
        entry.status = status
        self.stripe._log(entry)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", _random_id("req"))
            self.send_header("Stripe-Version", API_VERSION)
            if entry.idempotency_key:
                self.send_header("Idempotency-Key", entry.idempotency_key)
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): the request ran all the same
