"""Leader-portal benchmark: dashboard and share-entry list with 50,000 ledger rows.

Run: ``.venv/bin/python bench/portal.py [--bookings 10000] [--requests 60] [--vacuum]`` (``make bench``
runs it too). It creates a throwaway PostgreSQL database on 127.0.0.1 (dropped at the end),
migrates it, bulk-creates one cooperative's history — N paid bookings, each with a share to
the cooperative, a split entry (3 legs) and a transfer entry (2 legs): 5 × N ledger rows —
and then times the dashboard and the share-entry list through Django's request handling
in-process (server time, no network), reporting p50/p95 and the number of queries.
Targets: p95 ≤ 100 ms, dashboard ≤ 10 queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def create_database() -> tuple[str, str]:
    name = f"cacaotours_portal_bench_{os.getpid()}_{int(time.time())}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return name, f"postgres://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name], check=False)


def build_history(bookings: int):
    """One cooperative, one leader, ``bookings`` paid bookings with shares and 5 legs each."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
    from cacaotours.users.models import User
    from cooperatives.models import (
        Cooperative,
        JournalEntry,
        JournalLeg,
        LedgerAccount,
        Membership,
        Share,
        Transfer,
    )
    from cooperatives.services import ledger_account
    from tours.models import Departure, Route, SeatHold, Tour

    now = timezone.now()
    with transaction.atomic():
        coop = Cooperative.objects.create(
            name="Bench Cooperative",
            name_en="Bench Cooperative",
            slug="bench-coop",
            community="Bench",
            region="Cusco",
            summary="s",
            summary_en="s",
            story="s",
            story_en="s",
            payout_method="stripe_connect",
            stripe_account_id="acct_benchcoop1",
            stripe_transfers_enabled=True,
        )
        leader = User.objects.create_user("leader@bench.example", "bench-password-123")
        Membership.objects.create(user=leader, cooperative=coop, role=Membership.Role.LEADER)
        traveller = User.objects.create_user("traveller@bench.example", "bench-password-123")
        route = Route.objects.create(
            name="R",
            name_en="R",
            slug="r",
            region="Cusco",
            summary="s",
            summary_en="s",
            description="d",
            description_en="d",
        )
        tours = [
            Tour.objects.create(
                route=route,
                title=f"Tour {i}",
                title_en=f"Tour {i}",
                slug=f"tour-{i}",
                summary="s",
                summary_en="s",
                description="d",
                description_en="d",
                meeting_point="m",
                meeting_point_en="m",
                adult_price=35000,
                is_published=True,
            )
            for i in range(6)
        ]
        departures = Departure.objects.bulk_create(
            Departure(tour=tours[i % 6], starts_at=now - timedelta(days=400) + timedelta(hours=6 * i), capacity=500)
            for i in range(1500)
        )
        clearing = ledger_account(kind=LedgerAccount.Kind.CLEARING, currency="PEN")
        revenue = ledger_account(kind=LedgerAccount.Kind.REVENUE, currency="PEN")
        payable = ledger_account(kind=LedgerAccount.Kind.PAYABLE, currency="PEN", recipient=coop)
        holds = SeatHold.objects.bulk_create(
            SeatHold(departure=departures[i % len(departures)], units=2) for i in range(bookings)
        )
        booking_rows = Booking.objects.bulk_create(
            Booking(
                reference=f"KT-B{i:06d}",
                user=traveller,
                departure=hold.departure,
                hold=hold,
                status=BookingStatus.CONFIRMED,
                adults=2,
                currency="PEN",
                adult_price=35000,
                total_amount=70000,
                expires_at=now,
                contact_name="Bench",
                contact_email="traveller@bench.example",
            )
            for i, hold in enumerate(holds)
        )
        payments = Payment.objects.bulk_create(
            Payment(
                booking=b,
                provider="simulated",
                status=PaymentStatus.SUCCEEDED,
                amount=70000,
                currency="PEN",
                amount_received=70000,
                payment_intent_id=f"pi_b{b.pk}",
                charge_id=f"ch_b{b.pk}",
            )
            for b in booking_rows
        )
        shares = Share.objects.bulk_create(
            Share(
                booking=b,
                payment=p,
                key=f"{p.pk}:cooperative:{coop.pk}",
                basis_points=1500,
                currency="PEN",
                amount=10500,
                status=Share.Status.TRANSFERRED,
                rail=Share.Rail.STRIPE,
                cooperative=coop,
            )
            for b, p in zip(booking_rows, payments, strict=True)
        )
        Transfer.objects.bulk_create(
            Transfer(
                share=s,
                amount=10500,
                currency="PEN",
                destination="acct_benchcoop1",
                idempotency_key=f"share-transfer-{s.pk}",
                stripe_transfer_id=f"tr_b{s.pk}",
                status="created",
            )
            for s in shares
        )
        split_entries = JournalEntry.objects.bulk_create(
            JournalEntry(kind="split", booking=b, memo="split", idempotency_key=f"split:{p.pk}")
            for b, p in zip(booking_rows, payments, strict=True)
        )
        transfer_entries = JournalEntry.objects.bulk_create(
            JournalEntry(kind="transfer", booking=s.booking, memo="transfer", idempotency_key=f"transfer:{s.pk}")
            for s in shares
        )
        legs = []
        for split, transfer, share in zip(split_entries, transfer_entries, shares, strict=True):
            legs += [
                JournalLeg(entry=split, account=clearing, amount=70000, currency="PEN"),
                JournalLeg(entry=split, account=payable, amount=-10500, currency="PEN", share=share),
                JournalLeg(entry=split, account=revenue, amount=-59500, currency="PEN"),
                JournalLeg(entry=transfer, account=payable, amount=10500, currency="PEN", share=share),
                JournalLeg(entry=transfer, account=clearing, amount=-10500, currency="PEN", share=share),
            ]
        JournalLeg.objects.bulk_create(legs, batch_size=5000)
        # Spread the shares over the last year (journal entries are immutable: they stay "now").
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("UPDATE cooperatives_share SET created_at = now() - (id % 365) * interval '1 day'")
    return coop, leader, JournalLeg.objects.count()


def measure(client, url: str, requests: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    if os.environ.get("PORTAL_BENCH_SHOW_QUERIES"):
        for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"])):
            print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:400]}")
    return timings, len(captured.captured_queries), response.status_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000, help="5 ledger rows each (default 10,000 → 50,000)")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM ANALYZE after the bulk load (planner statistics as autovacuum would leave them)",
    )
    args = parser.parse_args()

    name, url = create_database()
    try:
        os.environ.update(
            DATABASE_URL=url, DJANGO_SETTINGS_MODULE="cacaotours.settings.test", DEBUG="false", LOG_LEVEL="WARNING"
        )
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse
        from django.utils import translation

        settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        coop, leader, legs = build_history(args.bookings)
        print(
            f"[bench] portal: {legs:,} ledger rows for one cooperative built in {time.perf_counter() - started:.0f} s"
        )
        if args.vacuum:
            # As pgbench does before a run: planner statistics and the visibility map as autovacuum
            # leaves them in production. Without it (the default, comparable with earlier runs) the
            # queries are planned without statistics when the server runs with autovacuum off.
            from django.db import connection

            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            print(f"[bench] portal: VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
        client = Client()
        client.force_login(leader)
        rows = []
        for label, name_ in (("dashboard", "portal:dashboard"), ("share entries", "portal:entries")):
            with translation.override("es"):
                path = reverse(name_, kwargs={"kind": "c", "pk": coop.pk})
            timings, queries, _status = measure(client, path, args.requests)
            p50, p95 = statistics.median(timings), percentile(timings, 95)
            target_q = 10 if label == "dashboard" else None
            met = p95 <= 100 and (target_q is None or queries <= target_q)
            rows.append((label, p50, p95, queries, met))
        print()
        state = "after VACUUM ANALYZE" if args.vacuum else "right after the bulk load"
        print(
            f"Leader portal at {legs:,} ledger rows (PostgreSQL {state}, in-process server time, "
            f"{args.requests} requests)"
        )
        print(f"{'page':<16}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  target (p95 ≤ 100 ms; dashboard ≤ 10 queries)")
        for label, p50, p95, queries, met in rows:
            print(f"{label:<16}{p50:>9.1f}{p95:>9.1f}{queries:>9}  {'met' if met else 'MISSED'}")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
