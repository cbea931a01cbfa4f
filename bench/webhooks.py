"""Webhook acknowledgement: signed ``checkout.session.completed`` events POSTed to /stripe/webhook/.

Run by ``bench/run.py`` (``make bench ARGS="--only webhooks"``) on its migrated throwaway
database. gunicorn (4 sync workers: 2 × CPUs, as the README's deployment section says) runs
with STRIPE_WEBHOOK_SECRET, a Stripe key pointing at the Stripe-shaped loopback server of
this process, and REDIS_URL on a throwaway Redis, so the view verifies, stores and enqueues.

Two phases of ``events`` (default 1,000) distinct events each, from 12 concurrent clients
with keep-alive connections; a quarter (at least 200) are for real bookings at the checkout
(held, details given, Checkout Session created at the fake Stripe, then completed there:
the event is the fake's own, with the payment's metadata), the rest for sessions we do not
know (stored, acknowledged, then ignored by the handler):

* **enqueue only**: no worker; afterwards every event must be stored and queued once;
* **with a worker**: one Celery worker (prefork, 2 processes) works through the events
  (confirmation, revenue split, charge look-up, transfers, e-mails) while they arrive.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time

from bench.common import HOST, RESULTS, Redis, Server, Usage, Worker, django_setup, log, percentile, section_main

CLIENTS = 12
TARGET_P99_MS = 200


def signed_post(port: int, payloads: list[bytes], secret: str) -> list[tuple[float, int]]:
    """POST every payload (signed just before sending) from CLIENTS threads: [(latency s, status)]."""
    from tests.stripe_server import sign

    lock = threading.Lock()
    queue = list(reversed(payloads))
    results: list[tuple[float, int]] = []
    barrier = threading.Barrier(CLIENTS)

    def one_client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine = []
        barrier.wait(timeout=30)
        try:
            while True:
                with lock:
                    if not queue:
                        break
                    payload = queue.pop()
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)}
                start = time.perf_counter()
                try:
                    connection.request("POST", "/stripe/webhook/", body=payload, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    status = 0
                mine.append((time.perf_counter() - start, status))
        finally:
            connection.close()
            with lock:
                results.extend(mine)

    threads = [threading.Thread(target=one_client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    results.append((time.perf_counter() - started, -1))  # the wall time, taken out by summarise()
    return results


def summarise(name: str, results: list[tuple[float, int]]) -> dict:
    wall = next(seconds for seconds, status in results if status == -1)
    samples = [(seconds, status) for seconds, status in results if status != -1]
    latencies = [seconds * 1000 for seconds, _status in samples]
    ok = sum(1 for _s, status in samples if status == 200)
    return {
        "phase": name,
        "events": len(samples),
        "acknowledged_200": ok,
        "errors": len(samples) - ok,
        "statuses": sorted({status for _s, status in samples}),
        "seconds": round(wall, 2),
        "events_per_second": round(len(samples) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


def add_usage(figures: dict, usage) -> None:
    figures["gunicorn_cpu_ms_per_event"] = round(usage.cpu * 1000 / figures["events"], 1)
    figures["gunicorn_cpu_wait_ms_per_event"] = round(usage.runqueue * 1000 / figures["events"], 1)


def make_events(server, departure, users, n_events: int, n_real: int, tag: str) -> tuple[list[bytes], list, list]:
    """``n_real`` events of real bookings, the rest for unknown sessions, shuffled: (payloads, ids, bookings)."""
    from bench.data import booking_at_checkout

    events, bookings = [], []
    for i in range(n_real):
        booking, payment = booking_at_checkout(departure, users[i % len(users)])
        events.append(server.complete_session(payment.checkout_session_id))
        bookings.append(booking.pk)
    template = events[0]["data"]["object"]
    for i in range(n_events - n_real):
        session = dict(
            template,
            id=f"cs_test_unknown_{tag}_{i:05d}",
            client_reference_id=None,
            metadata={},
            payment_intent=f"pi_unknown_{tag}_{i:05d}",
        )
        events.append(server.event("checkout.session.completed", session))
    random.Random(tag).shuffle(events)
    return [json.dumps(event).encode() for event in events], [event["id"] for event in events], bookings


def body(section, options: dict) -> None:
    import os

    from bench.data import STRIPE_KEY, WEBHOOK_SECRET, recipients, tour_with_rules, travellers
    from tests.stripe_server import StripeServer

    n_events = int(options.get("events", 1000))
    # real bookings per phase: with the worker each costs ~8 tasks, so phase B has fewer (its drain is timed)
    n_real = (min(n_events, max(200, n_events // 4)), min(n_events, max(100, n_events // 10)))
    stripe_server = StripeServer().start()
    redis = None
    server = None
    worker = None
    try:
        redis = Redis(RESULTS / "redis-webhooks.log")
        django_setup(
            {
                "REDIS_URL": redis.url,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
                "STRIPE_API_BASE": stripe_server.url,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        )
        from django.db import connections

        from bookings.models import Booking, BookingStatus, StripeEvent
        from cacaotours.celery import app

        log(f"webhooks: {sum(n_real)} bookings to the checkout (fake Stripe {stripe_server.url}), Redis: {redis.label}")
        coop, fund, farm = recipients(stripe_server, "wh", coops=1, funds=1, farms=1)
        _tour, (departure,) = tour_with_rules(
            "bench-webhook-tour", [coop, fund, farm], [1500, 1000, 500], capacity=5000
        )
        users = travellers("webhook", 20)
        phase_events = [
            make_events(stripe_server, departure, users, n_events, real, tag)
            for tag, real in zip("ab", n_real, strict=True)
        ]
        warm_up = make_events(stripe_server, departure, users, 4 * CLIENTS, 1, "w")[0]
        connections.close_all()
        env = dict(os.environ)
        server = Server(env, "webhooks", 4, quiet=True)
        server.wait_ready()
        log(f"webhooks: gunicorn {server.label} on {server.base}")
        signed_post(server.port, warm_up, WEBHOOK_SECRET)  # first requests of each worker: not measured
        queued_before = redis.queue_length()
        phases = []

        # Phase A: the view only verifies, stores and enqueues.
        payloads, ids, _bookings = phase_events[0]
        log(f"webhooks: {len(payloads)} events, no worker")
        usage = Usage(server.process.pid).start()
        figures = summarise("enqueue only (no worker)", signed_post(server.port, payloads, WEBHOOK_SECRET))
        add_usage(figures, usage.stop())
        figures["stored"] = StripeEvent.objects.filter(event_id__in=ids).count()
        figures["queued"] = redis.queue_length() - queued_before
        phases.append(figures)
        redis.client.delete("celery")  # phase B's worker starts from an empty queue

        # Phase B: the same with one worker doing the work as the events arrive.
        worker = Worker(env, "webhooks", pool="prefork", concurrency=2)
        worker.wait_ready(app)
        payloads, ids, bookings = phase_events[1]
        log(f"webhooks: {len(payloads)} events, worker {worker.label} running")
        started = time.monotonic()
        usage = Usage(server.process.pid).start()
        figures = summarise(f"with a worker ({worker.label})", signed_post(server.port, payloads, WEBHOOK_SECRET))
        add_usage(figures, usage.stop())
        figures["stored"] = StripeEvent.objects.filter(event_id__in=ids).count()
        pending = StripeEvent.objects.filter(event_id__in=ids, status=StripeEvent.Status.RECEIVED)
        try:
            deadline = time.monotonic() + 120
            while pending.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            figures["processed_seconds"] = round(time.monotonic() - started, 1)
        finally:
            figures["unprocessed"] = pending.count()
            figures["confirmed"] = Booking.objects.filter(pk__in=bookings, status=BookingStatus.CONFIRMED).count()
            figures["real_bookings"] = len(bookings)
        phases.append(figures)
        phases[0]["real_bookings"] = n_real[0]
        report(section, phases, server.label)
    finally:
        for process in (worker, server):
            if process is not None:
                process.stop()
        if redis is not None:
            redis.stop()
        stripe_server.stop()


def report(section, phases: list[dict], label: str) -> None:
    section.details = {"phases": phases, "clients": CLIENTS, "gunicorn": label}
    section.tables.append(
        {
            "title": f"Both phases (gunicorn {label}, {CLIENTS} concurrent clients with keep-alive connections)",
            "header": ["phase", "events", "real bookings", "200", "errors", "events/s", "p50 ms", "p95 ms", "p99 ms",
                       "max ms", "CPU ms/event", "CPU-wait ms/event"],
            "rows": [
                [
                    p["phase"], p["events"], p["real_bookings"], p["acknowledged_200"], p["errors"],
                    f"{p['events_per_second']:.0f}",
                    f"{p['p50_ms']:.1f}", f"{p['p95_ms']:.1f}", f"{p['p99_ms']:.1f}", f"{p['max_ms']:.1f}",
                    f"{p['gunicorn_cpu_ms_per_event']:.1f}", f"{p['gunicorn_cpu_wait_ms_per_event']:.1f}",
                ]
                for p in phases
            ],
        }
    )  # fmt: skip
    first, second = phases
    for p in phases:
        section.check(
            f"acknowledgement p50 / p95 / p99, {p['phase']}",
            f"{p['p50_ms']:.1f} / {p['p95_ms']:.1f} / {p['p99_ms']:.1f} ms",
            f"p99 ≤ {TARGET_P99_MS} ms",
            p["p99_ms"] <= TARGET_P99_MS,
            p["p99_ms"],
        )
    errors = first["errors"] + second["errors"]
    section.check("errors (non-200 or no answer, both phases)", str(errors), "0", errors == 0, errors)
    events = first["events"] + second["events"]
    stored = first["stored"] + second["stored"]
    section.check(
        "events stored once / queued (no worker)",
        f"{stored} of {events} / {first['queued']} of {first['events']}",
        "all",
        stored == events and first["queued"] == first["events"],
    )
    section.check(
        "with the worker: all events handled, bookings confirmed",
        f"{second['events'] - second['unprocessed']} of {second['events']} in {second.get('processed_seconds', '?')} s,"
        f" {second['confirmed']} of {second['real_bookings']} confirmed",
        "all",
        second["unprocessed"] == 0 and second["confirmed"] == second["real_bookings"],
    )


def main() -> int:
    return section_main("webhooks", "Stripe webhook acknowledgement", body)


if __name__ == "__main__":
    raise SystemExit(main())
