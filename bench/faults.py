"""Fault runs: Redis stopped during a rush, PostgreSQL restarted during browsing, Stripe down for a minute.

Run by ``bench/run.py`` (``make bench ARGS="--only faults"``) on its migrated throwaway database.
Everything is on 127.0.0.1; every process the section starts is stopped in ``finally`` blocks
(run.py's SIGTERM unwinds them too), and temporary directories are removed.

1. **redis**: signed-in travellers (client threads, through gunicorn) look at the tour page,
   hold a seat, give their details (the Checkout Session is created at the Stripe-shaped server
   of this process) and pay (the fake completes the session; its signed
   ``checkout.session.completed`` is POSTed to ``/stripe/webhook/``, and re-sent until it is
   acknowledged, as Stripe does). A Celery worker confirms, splits and routes the shares. In
   the middle, the section's OWN redis-server (broker and cache) is stopped for ``redis_seconds``
   and started again, empty, on the same port: what was queued is lost, as after a crash of a
   Redis without persistence. Owners cancel some confirmed bookings meanwhile (refunds,
   transfer reversals). This process plays beat: the sweeper tasks run every few seconds with
   short thresholds. Verdict: every paid booking confirmed with its e-mail sent, or cancelled
   and refunded once; no seat oversold; every share transferred exactly once or owed, or
   reversed for a cancellation; 5xx counted.
2. **postgres**: an OWN PostgreSQL instance (initdb in a temporary directory, as the
   ``postgres`` user when run as root, on a free port), migrated and loaded with the demo
   content; gunicorn serves the catalog with every cache off; client threads browse; the
   instance is stopped for ``postgres_seconds`` and started again. gunicorn is never
   restarted. Verdict: time to recovery, errors during the outage, none after.
3. **stripe**: bookings are paid (one a second) and a traveller starts a checkout through
   gunicorn every few seconds; the fake answers 500 to everything for ``stripe_seconds``
   (default 60), then recovers. Verdict: every paid booking confirmed, every share
   transferred exactly once, how long after the outage the last transfer came.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    HOST,
    RESULTS,
    Redis,
    Server,
    Worker,
    django_setup,
    free_port,
    log,
    process_tree,
    run,
    section_main,
)

RUNS = ("redis", "postgres", "stripe")
DEFAULT_REDIS_SECONDS = 12
DEFAULT_POSTGRES_SECONDS = 5
DEFAULT_STRIPE_SECONDS = 60
REDIS_LOAD_BEFORE, REDIS_LOAD_AFTER = 15, 15  # seconds of load around the Redis outage
POSTGRES_LOAD_BEFORE, POSTGRES_LOAD_AFTER = 6, 15
STRIPE_LOAD_BEFORE, STRIPE_LOAD_AFTER = 10, 10
TRANSFER_POST = ("POST", "/v1/transfers")
STRIPE_BURST = 30  # bookings paid at once; the outage starts as their first transfers reach Stripe
TRAVELLERS = 6  # client threads of the Redis run
THINK_SECONDS = 1.5  # each traveller's pause between bookings: ~2 paid bookings/s, what one worker keeps up with
CANCEL_EVERY = 2.0  # seconds between two cancellations of confirmed bookings (through the cancel page)
BROWSERS = 3  # client threads of the PostgreSQL run
HOT_CAPACITY = 40  # the Redis run's hot departure sells out early: the 409 path and the oversold check
BEAT_SECONDS = 5  # how often this process runs the sweepers (beat: every 60 s / 300 s)
EVENTS_STUCK_SECONDS = 20  # stripe_events_stuck threshold here (beat: 5 min)
SHARES_STUCK_SECONDS = 45  # shares_sweep threshold here (beat: 10 min)
BOOKINGS_STUCK_SECONDS = 30  # bookings_sweep threshold here: e-mails, refunds, charge look-ups (beat: 10 min)
DRAIN_TIMEOUT = 150  # seconds to wait for everything to complete after the Redis run's load
STRIPE_DRAIN_TIMEOUT = 300  # after the Stripe outage (retries back off up to 120 s)
TARGET_POSTGRES_RECOVERY_SECONDS = 5
TARGET_STRIPE_LAST_TRANSFER_SECONDS = 150  # share_route_task: retry_backoff_max=120 s (full jitter) + slack
SESSION_RE = re.compile(r"/c/pay/(cs_[A-Za-z0-9_]+)")
DETAILS_RE = re.compile(r"/bookings/([A-Z0-9-]+)/details/")
TOUR_LINK_RE = re.compile(r'href="(/tours/[a-z0-9-]+/)"')
ROUTE_LINK_RE = re.compile(r'href="(/routes/[a-z0-9-]+/)"')


# --- HTTP clients ---------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    start: float  # time.time()
    end: float
    status: int  # 0: no answer (refused, reset, timed out)


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, kind: str, port: int, method: str, path: str, *, headers=None, body=None, timeout=15.0):
        """One request on a new connection (sync workers close it anyway): (status, headers, body)."""
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        start = time.time()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            status, response_headers, data = response.status, response.headers, response.read()
        except (OSError, http.client.HTTPException):
            status, response_headers, data = 0, None, b""
        finally:
            connection.close()
        with self.lock:
            self.samples.append(Sample(kind, start, time.time(), status))
        return status, response_headers, data


class Traveller:
    """A signed-in traveller (session cookie, CSRF cookie and token) going through the booking pages."""

    def __init__(self, client, port: int, recorder: Recorder):
        self.client = client  # bench.rush.Client: cookie and token
        self.port = port
        self.recorder = recorder

    def _post(self, kind: str, path: str, fields: dict):
        body = urlencode({**fields, "csrfmiddlewaretoken": self.client.token})
        headers = {"Cookie": self.client.cookie, "Content-Type": "application/x-www-form-urlencoded"}
        return self.recorder.request(kind, self.port, "POST", path, headers=headers, body=body)

    def look(self, path: str) -> int:
        return self.recorder.request("tour page", self.port, "GET", path, headers={"Cookie": self.client.cookie})[0]

    def hold(self, departure_id: int) -> tuple[int, str | None]:
        """POST the units form: (status, the booking's reference when the seat is held)."""
        status, headers, _body = self._post(
            "hold", f"/book/{departure_id}/", {"departure": departure_id, "adults": 1, "children": 0}
        )
        match = DETAILS_RE.search(headers.get("Location", "")) if status == 302 and headers else None
        return status, match.group(1) if match else None

    def cancel(self, reference: str) -> int:
        return self._post("cancel", f"/bookings/{reference}/cancel/", {"confirm": "on", "reason": ""})[0]

    def details(self, reference: str, name: str) -> tuple[int, str | None]:
        """POST the travellers' details: (status, the Checkout Session id when sent to Stripe's page)."""
        fields = {
            "p-TOTAL_FORMS": 1, "p-INITIAL_FORMS": 0, "p-MIN_NUM_FORMS": 1, "p-MAX_NUM_FORMS": 1000,
            "p-0-full_name": name, "p-0-dietary_needs": "",
            "emergency_contact_name": "Domingo", "emergency_contact_phone": "+51 984 222 333",
            "language": "en", "notes": "",
        }  # fmt: skip
        status, headers, _body = self._post("details → checkout", f"/bookings/{reference}/details/", fields)
        match = SESSION_RE.search(headers.get("Location", "")) if status == 302 and headers else None
        return status, match.group(1) if match else None


class Webhooks:
    """Stripe's side of the webhook: POST each event signed; re-send the unacknowledged ones later."""

    def __init__(self, port: int, recorder: Recorder, secret: str):
        self.port = port
        self.recorder = recorder
        self.secret = secret
        self.pending: list[dict] = []
        self.lock = threading.Lock()
        self.redelivered = 0

    def _post(self, event: dict) -> bool:
        from tests.stripe_server import sign

        payload = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, self.secret)}
        answer = self.recorder.request("webhook", self.port, "POST", "/stripe/webhook/", headers=headers, body=payload)
        return answer[0] == 200

    def deliver(self, event: dict) -> None:
        if not self._post(event):
            with self.lock:
                self.pending.append(event)

    def redeliver(self) -> None:
        with self.lock:
            waiting, self.pending = self.pending, []
        for event in waiting:
            self.redelivered += 1
            self.deliver(event)


class Payments:
    """Bookings paid at the fake Stripe: reference → (payment time, who paid: a Traveller or None)."""

    def __init__(self, stripe_server, webhooks: Webhooks):
        self.stripe_server = stripe_server
        self.webhooks = webhooks
        self.paid: dict[str, tuple[float, Traveller | None]] = {}
        self.lock = threading.Lock()

    def pay(self, reference: str, session_id: str, traveller: Traveller | None = None) -> None:
        event = self.stripe_server.complete_session(session_id)  # the traveller paid: the money is taken
        with self.lock:
            self.paid[reference] = (time.time(), traveller)
        self.webhooks.deliver(event)


def phase_of(sample: Sample, down_at: float, up_at: float) -> str:
    """before (ended before the outage), after (started after it), or during (in flight at some point of it)."""
    if sample.end < down_at:
        return "before"
    return "after" if sample.start >= up_at else "during"


def answers(samples: list[Sample]) -> Counter:
    found = Counter(all=len(samples))
    for sample in samples:
        found["5xx" if sample.status >= 500 else "no answer" if sample.status == 0 else "2xx-4xx"] += 1
    return found


def by_phase(samples: list[Sample], down_at: float, up_at: float) -> dict[str, Counter]:
    return {
        phase: answers([s for s in samples if phase_of(s, down_at, up_at) == phase])
        for phase in ("before", "during", "after")
    }


def phase_table(title: str, samples: list[Sample], down_at: float, up_at: float, outage: str) -> dict:
    rows = []
    for phase in ("before", "during", "after"):
        for kind in sorted({s.kind for s in samples}):
            found = answers([s for s in samples if s.kind == kind and phase_of(s, down_at, up_at) == phase])
            if found["all"]:
                label = outage if phase == "during" else phase
                rows.append([label, kind, found["all"], found["2xx-4xx"], found["5xx"], found["no answer"]])
    return {"title": title, "header": ["when", "request", "answers", "2xx-4xx", "5xx", "no answer"], "rows": rows}


# --- the application's side: read from the database ---------------------------------------------------


def stripe_copy(objects: dict) -> list[dict]:
    """The fake's objects, copied while its threads may be adding some."""
    while True:
        try:
            return list(objects.values())
        except RuntimeError:
            continue


def bookings_outcome(references: list[str], stripe_server) -> dict:
    """Paid bookings: confirmed with their e-mail sent, or cancelled and refunded (exactly once at Stripe)."""
    from bookings.models import Booking, BookingStatus, Refund

    B = BookingStatus
    rows = list(
        Booking.objects.filter(reference__in=references).values_list("reference", "status", "confirmation_sent_at")
    )
    cancelled = [ref for ref, status, _sent in rows if status in (B.CANCELLED, B.REFUNDED)]
    refunds = Refund.objects.filter(payment__booking__reference__in=cancelled)
    charges = {c["id"]: c for c in stripe_copy(stripe_server.charges)}
    charge_of = {i["id"]: i["latest_charge"] for i in stripe_copy(stripe_server.payment_intents)}
    refunded_at_stripe = 0
    for intent_id, amount in refunds.values_list("payment__payment_intent_id", "payment__amount_received").distinct():
        charge = charges.get(charge_of.get(intent_id))
        refunded_at_stripe += bool(charge and charge["amount_refunded"] == amount)
    stripe_refunds = Counter(r["charge"] for r in stripe_copy(stripe_server.refunds) if r.get("charge") in charges)
    return {
        "paid": len(references),
        "found": len(rows),
        "confirmed": sum(1 for _r, status, _sent in rows if status == B.CONFIRMED),
        "emails": sum(1 for _r, status, sent in rows if status == B.CONFIRMED and sent is not None),
        "cancelled": len(cancelled),
        "refunded": sum(1 for _r, status, _sent in rows if status == B.REFUNDED),
        "refunds_succeeded": refunds.filter(status=Refund.Status.SUCCEEDED).count(),
        "refunds": refunds.count(),
        "refunded_in_full_at_stripe": refunded_at_stripe,
        "charges_refunded_more_than_once": sum(1 for n in stripe_refunds.values() if n > 1),
        "statuses": dict(Counter(status for _r, status, _sent in rows)),
        "cancelled_references": cancelled,
    }


def bookings_done(b: dict) -> bool:
    return (
        b["found"] == b["paid"] > 0
        and b["confirmed"] + b["cancelled"] == b["paid"]
        and b["emails"] == b["confirmed"]
        and b["refunded"] == b["refunds_succeeded"] == b["refunds"] == b["refunded_in_full_at_stripe"] == b["cancelled"]
        and b["charges_refunded_more_than_once"] == 0
    )


def routing_outcome(references: list[str], stripe_server, cancelled: list[str] = ()) -> dict:
    """Shares of these bookings: kept ones transferred or owed, cancelled ones reversed; transfers at the fake."""
    from django.db.models import Max

    from bookings.models import Payment
    from cooperatives.models import OutboxMessage, Share, ShareTransition, Transfer, TransferReversal

    S = Share.Status
    shares = dict(Share.objects.filter(booking__reference__in=references).values_list("pk", "booking__reference"))
    gone = {pk for pk, ref in shares.items() if ref in set(cancelled)}
    statuses = dict(Share.objects.filter(pk__in=shares).values_list("pk", "status"))
    kept = Counter(status for pk, status in statuses.items() if pk not in gone)
    at_stripe: dict[int, list[dict]] = {}
    for transfer in stripe_copy(stripe_server.transfers):
        share_id = str(transfer.get("metadata", {}).get("share_id", ""))
        if share_id.isdigit() and int(share_id) in shares:
            at_stripe.setdefault(int(share_id), []).append(transfer)
    routed = ShareTransition.objects.filter(share_id__in=shares, from_status=S.PENDING)
    last = routed.aggregate(last=Max("created_at"))["last"]
    last_transfer = routed.filter(to_status=S.TRANSFERRED).aggregate(last=Max("created_at"))["last"]
    return {
        "shares": len(shares),
        "kept": len(shares) - len(gone),
        "by_status": dict(Counter(statuses.values())),
        "pending": sum(1 for status in statuses.values() if status == S.PENDING),
        "transferred": kept.get(S.TRANSFERRED, 0),
        "owed": kept.get(S.OWED, 0),
        "cancelled": len(gone),
        "reversed": sum(1 for pk in gone if statuses[pk] == S.REVERSED),
        "transfer_rows": Transfer.objects.filter(share_id__in=shares, status=Transfer.Status.CREATED).count(),
        "stripe_transfers": sum(len(found) for found in at_stripe.values()),
        "stripe_duplicates": sum(1 for found in at_stripe.values() if len(found) > 1),
        "kept_without_transfer_at_stripe": sum(
            1 for pk, status in statuses.items() if pk not in gone and status == S.TRANSFERRED and pk not in at_stripe
        ),
        "cancelled_not_reversed_at_stripe": sum(
            1 for pk in gone for t in at_stripe.get(pk, []) if t["amount_reversed"] < t["amount"]
        ),
        "reversal_rows": TransferReversal.objects.filter(
            transfer__share_id__in=gone, status=TransferReversal.Status.CREATED
        ).count(),
        "stripe_reversals": sum(len(t["reversals"]["data"]) for pk in gone for t in at_stripe.get(pk, [])),
        "outbox_unpublished": OutboxMessage.objects.filter(published_at__isnull=True).count(),
        "charges_missing": Payment.objects.filter(booking__reference__in=references, charge_id="")
        .exclude(payment_intent_id="")
        .count(),
        "last_routed_at": last.timestamp() if last else None,
        "last_transferred_at": last_transfer.timestamp() if last_transfer else None,
    }


def routing_done(f: dict) -> bool:
    return (
        f["pending"] == 0
        and f["transferred"] + f["owed"] == f["kept"]
        and f["reversed"] == f["cancelled"]
        and f["transfer_rows"] == f["stripe_transfers"]
        and f["stripe_duplicates"] == f["kept_without_transfer_at_stripe"] == 0
        and f["cancelled_not_reversed_at_stripe"] == 0
        and f["reversal_rows"] == f["stripe_reversals"]
        and f["outbox_unpublished"] == 0
    )


def seats_outcome(departures: list) -> list[dict]:
    """Per departure: capacity, seats of active holds, seats of confirmed bookings."""
    from django.db.models import Sum
    from django.utils import timezone

    from bookings.models import Booking, BookingStatus
    from tours.models import SeatHold
    from tours.selectors import active_holds_q

    now = timezone.now()
    result = []
    for departure in departures:
        departure.refresh_from_db()
        held = SeatHold.objects.filter(active_holds_q(now), departure=departure).aggregate(n=Sum("units"))["n"] or 0
        confirmed = Booking.objects.filter(departure=departure, status=BookingStatus.CONFIRMED)
        result.append(
            {
                "departure": departure.pk,
                "capacity": departure.capacity,
                "seats_held": held,
                "seats_confirmed": sum(b.units for b in confirmed),
                "oversold": max(0, held - departure.capacity),
            }
        )
    return result


class Beat(threading.Thread):
    """What beat does, sped up: every BEAT_SECONDS the three sweeper tasks, run in this process.

    ``routing_sweep`` (outbox relay, shares pending and transfer reversals started for too long;
    beat: every minute, 10 min), ``stripe_events_retry_stuck`` (events stored but not handled;
    beat: every 5 min, 5 min) and ``bookings_sweep`` (confirmation e-mails not sent, refunds not
    made, charges not looked up; beat: every 10 min, 10 min), called with the thresholds given
    (seconds); what they re-enqueue goes to the broker as from beat. Also Stripe's re-sending
    of webhooks that were not acknowledged.
    """

    def __init__(self, webhooks: Webhooks, *, events_after: float, shares_after: float, bookings_after: float):
        super().__init__(name="beat", daemon=True)
        self.webhooks = webhooks
        self.events_after = events_after
        self.shares_after = shares_after
        self.bookings_after = bookings_after
        self.stopping = threading.Event()
        self.done = Counter()

    def once(self) -> None:
        from bookings.tasks import bookings_sweep, stripe_events_retry_stuck
        from cooperatives.tasks import routing_sweep

        self.webhooks.redeliver()  # Stripe re-sends what was not acknowledged
        try:  # the tasks' own code, run here with shorter thresholds (their .delay()s go to the broker)
            self.done.update(routing_sweep(older_than_minutes=self.shares_after / 60))
            self.done["events"] += stripe_events_retry_stuck(older_than_minutes=self.events_after / 60)
            self.done.update(bookings_sweep(older_than_minutes=self.bookings_after / 60))
        except Exception:  # the broker is down: beat's own publishing fails too; next time
            self.done["runs that could not publish"] += 1

    def run(self) -> None:
        from django.db import connections

        try:
            while not self.stopping.wait(BEAT_SECONDS):
                self.once()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


# --- Redis and Stripe runs: shared set-up -------------------------------------------------------------


class RestartableRedis(Redis):
    """bench.common.Redis that can be stopped and started again on the same port (empty: no persistence)."""

    def __init__(self, log_path: Path):
        if not shutil.which("redis-server"):
            raise RuntimeError("the Redis fault run needs the redis-server executable (its own server)")
        try:
            super().__init__(log_path)
        except BaseException:  # started but never ready: the caller never gets it to stop
            self.down()
            raise

    def down(self) -> None:
        from bench.common import stop_group

        stop_group(self.process, grace=5)
        self.process = None

    def up(self) -> None:
        self._spawn()
        self.wait_ready()


@dataclass
class World:
    """What the Redis and Stripe runs share: the fake Stripe, our Redis, recipients, travellers."""

    stripe_server: object
    redis: RestartableRedis
    env: dict
    recipients: list
    users: list
    clients: list  # bench.rush.Client


def make_tour(world: World, slug: str, capacities: list[int]):
    """A tour paying the four recipients (3 by Stripe transfer, 1 owed), one departure per capacity."""
    from bench.data import tour_with_rules
    from tours.models import Departure

    tour, departures = tour_with_rules(
        slug, world.recipients, [1500, 1000, 500, 300], departures=len(capacities), capacity=max(capacities)
    )
    for departure, capacity in zip(departures, capacities, strict=True):
        Departure.objects.filter(pk=departure.pk).update(capacity=capacity)
        departure.capacity = capacity
    return tour, departures


def start_app(world: World, name: str) -> tuple[Server, Worker]:
    """gunicorn (4 sync workers) and one Celery worker (prefork, 2 processes) on the section's Redis."""
    from cacaotours.celery import app

    server = Server(world.env, f"faults-{name}", 4, quiet=True)
    worker = None
    try:
        worker = Worker(world.env, f"faults-{name}", pool="prefork", concurrency=2)
        server.wait_ready()
        worker.wait_ready(app)
    except BaseException:  # the caller never gets them: stop them here
        server.stop()
        if worker is not None:
            worker.stop()
        raise
    return server, worker


def wind_down(stop: threading.Event, threads: list, *started) -> None:
    """In a run's ``finally``: stop the client threads, then what the run started (beat, worker, gunicorn)."""
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    for item in started:
        if item is not None:
            item.stop()


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1.0)
    return bool(condition())


# --- 1. Redis stopped and restarted during a rush ---------------------------------------------------------


def redis_run(section, world: World, down_seconds: int) -> None:
    from django.db import connections

    from bench.data import WEBHOOK_SECRET
    from bench.rush import fetch_tokens
    from bookings.models import Booking, BookingStatus

    tour, departures = make_tour(world, "bench-faults-redis", [HOT_CAPACITY, 5000])
    connections.close_all()
    server = worker = beat = None
    recorder = Recorder()
    stop = threading.Event()
    threads = []
    try:
        server, worker = start_app(world, "redis")
        fetch_tokens(server.port, departures[1].pk, world.clients[:TRAVELLERS])
        webhooks = Webhooks(server.port, recorder, WEBHOOK_SECRET)
        payments = Payments(world.stripe_server, webhooks)
        beat = Beat(
            webhooks,
            events_after=EVENTS_STUCK_SECONDS,
            shares_after=SHARES_STUCK_SECONDS,
            bookings_after=BOOKINGS_STUCK_SECONDS,
        )
        beat.start()
        worker_pid = worker.process.pid
        travellers = [Traveller(client, server.port, recorder) for client in world.clients[:TRAVELLERS]]

        def traveller(index: int, me: Traveller) -> None:
            """Look at the tour, hold a seat (the hot departure every other time), give details, pay."""
            cycle = 0
            try:
                while not stop.is_set():
                    cycle += 1
                    departure = departures[(cycle + index) % 2]
                    me.look(f"/tours/{tour.slug}/")
                    _status, reference = me.hold(departure.pk)
                    if reference is not None:
                        _status, session_id = me.details(reference, f"Traveller {index}-{cycle}")
                        if session_id is not None:
                            payments.pay(reference, session_id, me)
                    stop.wait(THINK_SECONDS)
            finally:
                connections.close_all()

        asked: set[str] = set()

        def canceller() -> None:
            """Every CANCEL_EVERY s, the owner of a confirmed booking cancels it (full refund: 40 days ahead)."""
            try:
                while not stop.wait(CANCEL_EVERY):
                    with payments.lock:
                        paid = {ref: who for ref, (_t, who) in payments.paid.items() if ref not in asked}
                    reference = (
                        Booking.objects.filter(reference__in=list(paid), status=BookingStatus.CONFIRMED)
                        .order_by("?")
                        .values_list("reference", flat=True)
                        .first()
                    )
                    if reference is not None:
                        asked.add(reference)
                        paid[reference].cancel(reference)
            finally:
                connections.close_all()

        log(
            f"faults (redis): {TRAVELLERS} travellers through gunicorn {server.label} (and a cancellation every "
            f"{CANCEL_EVERY:.0f} s), worker {worker.label}"
        )
        threads = [threading.Thread(target=traveller, args=(i, t), daemon=True) for i, t in enumerate(travellers)]
        threads.append(threading.Thread(target=canceller, daemon=True))
        started = time.time()
        for thread in threads:
            thread.start()
        time.sleep(REDIS_LOAD_BEFORE)
        log(f"faults (redis): stopping redis-server on port {world.redis.port} for {down_seconds} s")
        down_at = time.time()
        world.redis.down()
        time.sleep(down_seconds)
        world.redis.up()
        up_at = time.time()
        log(f"faults (redis): redis-server is back (empty) after {up_at - down_at:.1f} s")
        time.sleep(REDIS_LOAD_AFTER)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        load_end = time.time()
        references = list(payments.paid)
        log(f"faults (redis): {len(references)} bookings paid; waiting for confirmations, refunds and routing")

        def complete() -> bool:
            outcome = bookings_outcome(references, world.stripe_server)
            routing = routing_outcome(references, world.stripe_server, outcome["cancelled_references"])
            return (
                not webhooks.pending
                and bookings_done(outcome)
                and routing_done(routing)
                and routing["charges_missing"] == 0
            )

        drained = wait_until(complete, DRAIN_TIMEOUT)
        drained_at = time.time()
        worker_alive = worker.process.poll() is None and worker.process.pid == worker_pid
    finally:
        wind_down(stop, threads, beat, worker, server)
    outcome = bookings_outcome(references, world.stripe_server)
    figures = {
        "down_seconds": round(up_at - down_at, 1),
        "down_after_seconds": round(down_at - started, 1),
        "load_seconds": round(load_end - started, 1),
        "drained": drained,
        "drain_seconds": round(drained_at - load_end, 1),
        "webhooks_unacknowledged": len(webhooks.pending),
        "webhooks_redelivered": webhooks.redelivered,
        "paid_during_outage": sum(1 for t, _who in payments.paid.values() if down_at <= t < up_at),
        "cancellations_asked": len(asked),
        "bookings": outcome,
        "routing": routing_outcome(references, world.stripe_server, outcome["cancelled_references"]),
        "seats": seats_outcome(departures),
        "beat": dict(beat.done),
        "worker_alive_same_process": worker_alive,
        "answers": {phase: dict(found) for phase, found in by_phase(recorder.samples, down_at, up_at).items()},
    }
    figures["from_redis_back_to_last_routed_s"] = (
        round(figures["routing"]["last_routed_at"] - up_at, 1) if figures["routing"]["last_routed_at"] else None
    )
    section.details["redis"] = figures
    section.tables.append(
        phase_table(
            "Redis run: answers by phase (a request in flight at any time of the outage counts as during)",
            recorder.samples,
            down_at,
            up_at,
            f"Redis down ({figures['down_seconds']} s)",
        )
    )
    report_redis(section, figures)


def report_redis(section, f: dict) -> None:
    b, r = f["bookings"], f["routing"]
    section.check(
        "Redis: outage (own redis-server stopped, started again empty)",
        f"at {f['down_after_seconds']} s, for {f['down_seconds']} s; {f['paid_during_outage']} of {b['paid']} "
        "bookings paid meanwhile",
    )
    during = f["answers"]["during"]
    outside = Counter(f["answers"]["before"]) + Counter(f["answers"]["after"])
    section.check(
        "Redis: 5xx / no answer during the outage (allowed)",
        f"{during.get('5xx', 0)} / {during.get('no answer', 0)} of {during.get('all', 0)}",
        raw=during.get("5xx", 0),
    )
    bad_outside = outside.get("5xx", 0) + outside.get("no answer", 0)
    section.check(
        "Redis: 5xx or no answer before and after the outage",
        f"{bad_outside} of {outside.get('all', 0)}",
        "0",
        bad_outside == 0,
        bad_outside,
    )
    section.check(
        "Redis: paid bookings confirmed with their e-mail, or cancelled and refunded; charges looked up",
        f"{b['confirmed']} confirmed ({b['emails']} e-mails) + {b['refunded']} refunded of {b['paid']} paid; "
        f"{b['refunded_in_full_at_stripe']} of {b['cancelled']} cancellations refunded at Stripe; "
        f"{r['charges_missing']} charges not looked up",
        "all",
        bookings_done(b) and r["charges_missing"] == 0,
    )
    oversold = sum(d["oversold"] for d in f["seats"])
    hot = f["seats"][0]
    section.check(
        "Redis: oversold seats",
        f"{oversold} (hot departure: {hot['seats_held']} of {hot['capacity']} seats held)",
        "0",
        oversold == 0 and all(d["seats_confirmed"] <= d["capacity"] for d in f["seats"]),
        oversold,
    )
    section.check(
        "Redis: shares transferred once or owed; of cancellations, reversed",
        f"{r['transferred']} + {r['owed']} of {r['kept']}, {r['reversed']} of {r['cancelled']}; "
        f"{r['pending']} pending, {r['stripe_duplicates']} duplicate transfers",
        "all, once",
        f["drained"] and routing_done(r),
    )
    section.check(
        "Redis: back → everything routed; the worker recovered by itself",
        f"{f['from_redis_back_to_last_routed_s']} s; worker "
        + ("the same process" if f["worker_alive_same_process"] else "DIED or was replaced"),
        "yes",
        f["worker_alive_same_process"] and f["drained"],
    )
    if not f["drained"]:
        section.notes.append(f"redis run: not everything completed within {DRAIN_TIMEOUT} s: see details in the JSON")
    section.notes.append(
        f"redis run: {TRAVELLERS} travellers (tour page, hold, details → Checkout Session at the fake, pay → signed "
        f"webhook), a cancellation every {CANCEL_EVERY:.0f} s, gunicorn 4 sync workers, one Celery worker (prefork "
        "× 2). redis-server runs without persistence, so what it held (queued tasks) is lost at the stop."
    )
    section.notes.append(
        f"redis run: this process plays beat every {BEAT_SECONDS} s with short thresholds (stuck events after "
        f"{EVENTS_STUCK_SECONDS} s, pending shares and reversals after {SHARES_STUCK_SECONDS} s, unsent "
        f"confirmation e-mails, pending refunds and charges not looked up after {BOOKINGS_STUCK_SECONDS} s; beat's "
        "own: 5, 10 and 10 min, so in production what "
        f"the outage lost completes up to ~10–20 min later): {f['beat'] or 'nothing to do'}; webhooks re-sent "
        f"until acknowledged: {f['webhooks_redelivered']}."
    )


# --- 3. the Stripe-shaped server answering 500 for a while ------------------------------------------------


def stripe_run(section, world: World, down_seconds: int) -> None:
    from django.db import connections

    from bench.data import WEBHOOK_SECRET, booking_at_checkout
    from bench.rush import fetch_tokens

    rate = 1.0  # payments per second
    n_paid = int((STRIPE_LOAD_BEFORE + down_seconds + STRIPE_LOAD_AFTER) * rate) + STRIPE_BURST
    _tour, (departure,) = make_tour(world, "bench-faults-stripe", [5000])
    log(f"faults (stripe): {n_paid} bookings to the checkout")
    waiting = [booking_at_checkout(departure, world.users[i % len(world.users)], adults=2) for i in range(n_paid)]
    connections.close_all()
    server = worker = beat = None
    recorder = Recorder()
    stop = threading.Event()
    threads = []
    checkouts: list[tuple[float, str, str | None]] = []  # (time, reference, session id or None)
    retried: list[bool] = []  # checkouts refused during the outage, tried again after it: opened?
    stripe = world.stripe_server
    requests_before = len(stripe.requests)
    try:
        server, worker = start_app(world, "stripe")
        traveller_client = world.clients[-1]
        fetch_tokens(server.port, departure.pk, [traveller_client])
        webhooks = Webhooks(server.port, recorder, WEBHOOK_SECRET)
        payments = Payments(stripe, webhooks)
        # Beat's own thresholds here (events 5 min, shares and bookings 10 min): the retries alone must do it.
        beat = Beat(webhooks, events_after=300, shares_after=600, bookings_after=600)
        beat.start()

        def payer() -> None:
            """One payment a second."""
            start = time.monotonic()
            for index, (booking, payment) in enumerate(waiting[STRIPE_BURST:]):
                if stop.wait(max(0.0, start + index / rate - time.monotonic())):
                    return
                payments.pay(booking.reference, payment.checkout_session_id)

        def checkout_traveller() -> None:
            """Every 3 s a traveller holds a seat and gives their details; sent to the payment page, they pay."""
            me = Traveller(traveller_client, server.port, recorder)
            n = 0
            try:
                while not stop.wait(3.0):
                    n += 1
                    _status, reference = me.hold(departure.pk)
                    if reference is not None:
                        _status, session_id = me.details(reference, f"Checkout {n}")
                        checkouts.append((time.time(), reference, session_id))
                        if session_id is not None:
                            payments.pay(reference, session_id)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=f, daemon=True) for f in (payer, checkout_traveller)]
        log(
            f"faults (stripe): {rate:.0f} payment/s ({STRIPE_BURST} at once just before the outage), a checkout "
            "through gunicorn every 3 s"
        )
        for thread in threads:
            thread.start()
        time.sleep(STRIPE_LOAD_BEFORE)
        # A burst of payments; the outage starts as their transfers begin to reach Stripe, so that the
        # shares still to route have a known charge (the transfer itself fails) or not (the look-up fails).
        transfers_before = sum(1 for method, path, _t in list(stripe.arrivals) if (method, path) == TRANSFER_POST)
        for booking, payment in waiting[:STRIPE_BURST]:
            payments.pay(booking.reference, payment.checkout_session_id)
        with contextlib.suppress(TimeoutError):
            stripe.wait_for_arrival(*TRANSFER_POST, count=transfers_before + 5, timeout=30)
        log(f"faults (stripe): the fake Stripe answers 500 to everything for {down_seconds} s")
        down_at = time.time()
        stripe.fail_for(down_seconds)
        time.sleep(down_seconds)
        up_at = time.time()
        log("faults (stripe): the fake Stripe answers again")
        threads[0].join(timeout=STRIPE_LOAD_AFTER + 30)
        stop.set()
        threads[1].join(timeout=60)
        # Travellers whose payment page could not be opened try again (the same booking: the hold lasts
        # 15 min), and pay.
        me = Traveller(traveller_client, server.port, recorder)
        for _t, reference, session_id in [c for c in checkouts if c[2] is None]:
            _status, session_id = me.details(reference, "Checkout again")
            retried.append(session_id is not None)
            if session_id is not None:
                payments.pay(reference, session_id)
        references = list(payments.paid)
        log(f"faults (stripe): {len(references)} bookings paid; waiting for every share to be transferred")

        def complete() -> bool:
            figures = routing_outcome(references, stripe)
            return (
                not webhooks.pending
                and bookings_done(bookings_outcome(references, stripe))
                and routing_done(figures)
                and figures["charges_missing"] == 0
            )

        drained = wait_until(complete, STRIPE_DRAIN_TIMEOUT)
        drained_at = time.time()
    finally:
        stripe.fail_for(0)
        wind_down(stop, threads, beat, worker, server)
    served = stripe.requests[requests_before:]
    refused = Counter(f"{r.method} {route_of(r.path)}" for r in served if r.injected == "500")
    routing = routing_outcome(references, stripe)
    figures = {
        "down_seconds": round(up_at - down_at, 1),
        "drained": drained,
        "drain_seconds": round(drained_at - up_at, 1),
        "bookings": bookings_outcome(references, stripe),
        "routing": routing,
        "last_transfer_after_outage_s": round(routing["last_transferred_at"] - up_at, 1)
        if routing["last_transferred_at"]
        else None,
        "stripe_requests": len(served),
        "stripe_500s": dict(refused),
        "checkouts": len(checkouts),
        "checkouts_refused": sum(1 for _t, _r, s in checkouts if s is None),
        "checkouts_retried": len(retried),
        "checkouts_retried_ok": sum(retried),
        "webhooks_unacknowledged": len(webhooks.pending),
        "beat": dict(beat.done) if beat else {},
    }
    section.details["stripe"] = figures
    report_stripe(section, figures)


def route_of(path: str) -> str:
    """/v1/charges/ch_3f2a… → /v1/charges/{id}: the fake's paths without object ids (ids have digits)."""
    return "/".join("{id}" if part != "v1" and any(c.isdigit() for c in part) else part for part in path.split("/"))


def report_stripe(section, f: dict) -> None:
    b, r = f["bookings"], f["routing"]
    refused = sum(f["stripe_500s"].values())
    section.check(
        "Stripe: outage (the fake answers 500 to everything)",
        f"{f['down_seconds']} s: {refused} requests refused, {f['stripe_500s'].get('POST /v1/transfers', 0)} of "
        "them transfers",
    )
    section.notes.append(
        "stripe run: requests refused during the outage: "
        + ", ".join(f"{k} {v}" for k, v in sorted(f["stripe_500s"].items()))
        + f"; {b['paid']} bookings paid ({STRIPE_BURST} at once, the outage starting as their first transfers "
        "reached Stripe; the others 1 a second, and the checkouts started through gunicorn every 3 s)."
    )
    section.check(
        "Stripe: checkouts that could not open the payment page during the outage; opened on retry",
        f"{f['checkouts_refused']} of {f['checkouts']}; {f['checkouts_retried_ok']} of {f['checkouts_retried']} "
        "on retry",
        "all on retry",
        f["checkouts_retried_ok"] == f["checkouts_retried"] == f["checkouts_refused"],
    )
    section.check(
        "Stripe: every paid booking confirmed, e-mail sent, charge looked up",
        f"{b['confirmed']} confirmed, {b['emails']} e-mails, of {b['paid']} paid; "
        f"{r['charges_missing']} charges not looked up",
        "all",
        b["paid"] > 0 and b["confirmed"] == b["emails"] == b["paid"] and r["charges_missing"] == 0,
    )
    section.check(
        "Stripe: every share transferred exactly once (shares = Transfer rows = transfers at Stripe)",
        f"{r['transferred']} transferred + {r['owed']} owed of {r['shares']}; {r['transfer_rows']} Transfer rows, "
        f"{r['stripe_transfers']} at Stripe, {r['stripe_duplicates']} duplicated",
        "all, once",
        f["drained"] and routing_done(r),
    )
    late = f["last_transfer_after_outage_s"]
    section.check(
        "Stripe: outage over → last share transferred",
        "—" if late is None else f"{late} s",
        f"≤ {TARGET_STRIPE_LAST_TRANSFER_SECONDS} s",
        late is not None and late <= TARGET_STRIPE_LAST_TRANSFER_SECONDS and f["drained"],
        late,
    )
    section.notes.append(
        "stripe run: share_route_task retries APIError/APIConnectionError/RateLimitError with retry_backoff=2, "
        "retry_backoff_max=120, retry_jitter (full jitter), max_retries=12; payment_charge_record_task the same "
        "with a 300 s cap and 8 retries; stripe-python itself retries a 5xx twice (max_network_retries=2). "
        "So a share waits at most ~120 s after Stripe is back, plus its queueing."
    )
    if not f["drained"]:
        section.notes.append(f"stripe run: not everything completed within {STRIPE_DRAIN_TIMEOUT} s after the outage")


# --- 2. PostgreSQL restarted during browsing --------------------------------------------------------------


class OwnPostgres:
    """A PostgreSQL instance of our own: initdb into a temporary directory, on a free port.

    As root, initdb and pg_ctl run as the ``postgres`` user (initdb refuses root). Never the
    system cluster: other people's tests use it.
    """

    def __init__(self):
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(x) for x in v.split(".")])
        self.bin = Path("/usr/lib/postgresql") / versions[-1] / "bin"
        self.version = versions[-1]
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="cacaotours-faults-pg-"))
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.port = free_port()
        try:
            initdb = ["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"]
            self._pg([*initdb, "-N"])  # -N: no fsync, a throwaway instance
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _pg(self, cmd: list[str], timeout: float = 120) -> None:
        full = [*self.as_user, str(self.bin / cmd[0]), *cmd[1:]]
        result = subprocess.run(full, check=False, text=True, capture_output=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({result.returncode}): {(result.stderr or result.stdout)[-500:]}")

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -c unix_socket_directories={self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._pg(["pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._pg(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def cleanup(self) -> None:
        """Stop it (immediate) if it runs, keep its log in bench/results/, remove the directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                try:
                    self.stop("immediate")
                except (RuntimeError, subprocess.TimeoutExpired):
                    pid = int((self.data / "postmaster.pid").read_text().split()[0])
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, 9)
            with contextlib.suppress(OSError):
                shutil.copy(self.log_path, RESULTS / "postgres-faults.log")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def postgres_run(section, down_seconds: int) -> None:
    import psycopg2

    from bench.common import base_env

    pg = OwnPostgres()
    server = None
    stop = threading.Event()
    threads = []
    recorder = Recorder()
    try:
        log(f"faults (postgres): own PostgreSQL {pg.version} on port {pg.port} ({pg.dir})")
        pg.start()
        connection = psycopg2.connect(pg.url("postgres"), connect_timeout=5)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE cacaotours_faults")
        connection.close()
        env = base_env(pg.url("cacaotours_faults"))
        env.update(
            REDIS_URL="",  # the local-memory cache: this run is about the database
            CATALOG_CACHE_SECONDS="0",
            CATALOG_FRAGMENT_SECONDS="0",
            MEDIA_ROOT=str(pg.dir / "media"),
        )
        for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
            env.pop(key, None)
        log("faults (postgres): migrate and load_demo --no-photos into it")
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        run([sys.executable, "manage.py", "load_demo", "--force", "--quiet", "--no-photos"], env, capture=True)
        server = Server(env, "faults-postgres", 2, quiet=True)
        server.wait_ready()
        home = recorder.request("setup", server.port, "GET", "/")[2].decode(errors="replace")
        paths = ["/"] + [m.group(1) for m in (TOUR_LINK_RE.search(home), ROUTE_LINK_RE.search(home)) if m]
        pids_before = set(process_tree(server.process.pid))

        def browser(index: int) -> None:
            n = index
            while not stop.is_set():
                path = paths[n % len(paths)]
                recorder.request("catalog page", server.port, "GET", path, timeout=10)
                n += 1

        log(f"faults (postgres): {BROWSERS} clients browsing {', '.join(paths)} (caches off), gunicorn {server.label}")
        threads = [threading.Thread(target=browser, args=(i,), daemon=True) for i in range(BROWSERS)]
        started = time.time()
        for thread in threads:
            thread.start()
        time.sleep(POSTGRES_LOAD_BEFORE)
        log(f"faults (postgres): pg_ctl stop -m fast, {down_seconds} s down, pg_ctl start")
        down_at = time.time()
        pg.stop("fast")
        stopped_at = time.time()
        time.sleep(down_seconds)
        pg.start()
        up_at = time.time()
        time.sleep(POSTGRES_LOAD_AFTER)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        pids_after = set(process_tree(server.process.pid))
    finally:
        try:
            wind_down(stop, threads, server)
        finally:
            pg.cleanup()
    samples = [s for s in recorder.samples if s.kind == "catalog page"]
    failed = [s for s in samples if s.status != 200]
    first_ok = min((s.end for s in samples if s.status == 200 and s.start >= up_at), default=None)
    last_failure = max((s.end for s in failed), default=None)
    figures = {
        "down_after_seconds": round(down_at - started, 1),
        "stop_seconds": round(stopped_at - down_at, 1),
        "down_seconds": round(up_at - down_at, 1),
        "requests": len(samples),
        "errors_before": sum(1 for s in failed if s.end < down_at),
        "errors_during": sum(1 for s in failed if s.end >= down_at and s.start < up_at),
        "errors_during_by_status": dict(Counter(s.status for s in failed if s.end >= down_at and s.start < up_at)),
        "first_ok_after_up_s": round(first_ok - up_at, 2) if first_ok else None,
        "recovery_s": round(max(0.0, max(last_failure or 0, first_ok or 0) - up_at), 2) if first_ok else None,
        "errors_after_first_ok": sum(1 for s in failed if first_ok and s.start >= first_ok),
        "gunicorn_same_processes": pids_before == pids_after,
        "gunicorn_pids": sorted(pids_before),
        "paths": paths,
    }
    if last_failure is not None and first_ok is not None and last_failure < first_ok:
        figures["recovery_s"] = figures["first_ok_after_up_s"]
    section.details["postgres"] = figures
    section.tables.append(
        phase_table(
            "PostgreSQL run: answers by phase",
            samples,
            down_at,
            up_at,
            f"PostgreSQL down ({figures['down_seconds']} s)",
        )
    )
    report_postgres(section, figures)


def report_postgres(section, f: dict) -> None:
    section.check(
        "PostgreSQL: outage (own instance, pg_ctl stop -m fast, then start)",
        f"at {f['down_after_seconds']} s, accepting again after {f['down_seconds']} s",
    )
    statuses = ", ".join(f"{n} × {'no answer' if k == 0 else k}" for k, n in f["errors_during_by_status"].items())
    section.check(
        "PostgreSQL: errors during the outage (allowed)",
        f"{f['errors_during']} of {f['requests']} requests" + (f" ({statuses})" if statuses else ""),
        raw=f["errors_during"],
    )
    recovery = f["recovery_s"]
    section.check(
        "PostgreSQL: accepting again → requests succeed (time to recovery)",
        "never" if recovery is None else f"{recovery:.2f} s",
        f"≤ {TARGET_POSTGRES_RECOVERY_SECONDS} s",
        recovery is not None and recovery <= TARGET_POSTGRES_RECOVERY_SECONDS,
        recovery,
    )
    section.check(
        "PostgreSQL: errors after recovery (and before the outage); gunicorn not restarted",
        f"{f['errors_after_first_ok']} after, {f['errors_before']} before; gunicorn "
        + ("the same master and workers" if f["gunicorn_same_processes"] else "workers were replaced"),
        "0, same",
        f["errors_after_first_ok"] == 0 and f["errors_before"] == 0 and f["gunicorn_same_processes"],
    )
    section.notes.append(
        f"postgres run: {BROWSERS} client threads GET {', '.join(f['paths'])} in a loop from gunicorn (2 sync "
        "workers, page and fragment caches off, no Redis) with the app's DB_CONN_MAX_AGE (60 s: persistent "
        "connections) and CONN_HEALTH_CHECKS; its own PostgreSQL instance, stopped and started again."
    )


# --- the section ---------------------------------------------------------------------------------------


def one_run(section, name: str, function, *args) -> None:
    """Run one fault run; if it fails, the report says so (a target not met) and the next one runs."""
    try:
        function(*args)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        section.check(f"{name} run", f"NOT COMPLETED: {exc.__class__.__name__}: {exc}"[:300], "completed", False)


def body(section, options: dict) -> None:
    from bench.data import STRIPE_KEY, WEBHOOK_SECRET, recipients, session_cookies, travellers
    from bench.rush import Client
    from tests.stripe_server import StripeServer

    wanted = [name for name in (options.get("runs") or ",".join(RUNS)).split(",") if name]
    seconds = {
        "redis": int(options.get("redis_seconds", DEFAULT_REDIS_SECONDS)),
        "postgres": int(options.get("postgres_seconds", DEFAULT_POSTGRES_SECONDS)),
        "stripe": int(options.get("stripe_seconds", DEFAULT_STRIPE_SECONDS)),
    }
    section.details["settings"] = {"runs": wanted, "outage_seconds": seconds}
    if "postgres" in wanted:
        one_run(section, "postgres", postgres_run, section, seconds["postgres"])
    if not {"redis", "stripe"} & set(wanted):
        return
    stripe_server = StripeServer().start()
    redis = None
    try:
        redis = RestartableRedis(RESULTS / "redis-faults.log")
        django_setup(
            {
                "REDIS_URL": redis.url,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
                "STRIPE_API_BASE": stripe_server.url,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        )
        # This process relays and sweeps while the broker is down: its "could not publish" warnings
        # (with tracebacks) would drown the report.
        for name in ("cooperatives.services", "bookings.services", "bookings.views"):
            logging.getLogger(name).setLevel(logging.ERROR)
        from tests.factories import CooperativeFactory

        coop, fund, farm = recipients(stripe_server, "flt", coops=1, funds=1, farms=1)
        owed = CooperativeFactory(slug="flt-bank-coop")  # no payout method yet: its shares are kept as owed
        users = travellers("faults", TRAVELLERS + 1)
        world = World(
            stripe_server=stripe_server,
            redis=redis,
            env=dict(os.environ),
            recipients=[coop, fund, farm, owed],
            users=users,
            clients=[Client(cookie=cookie) for cookie in session_cookies(users)],
        )
        log(f"faults: fake Stripe on {stripe_server.url}, Redis: {redis.label}")
        if "redis" in wanted:
            one_run(section, "redis", redis_run, section, world, seconds["redis"])
        if "stripe" in wanted:
            one_run(section, "stripe", stripe_run, section, world, seconds["stripe"])
    finally:
        if redis is not None:
            redis.stop()
        stripe_server.stop()


def main() -> int:
    return section_main("faults", "Fault runs (Redis, PostgreSQL, Stripe)", body)


if __name__ == "__main__":
    raise SystemExit(main())
