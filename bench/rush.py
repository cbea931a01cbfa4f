"""Hot-departure rush: 32 signed-in travellers POST holds at one departure through gunicorn.

Run by ``bench/run.py`` (``make bench ARGS="--only rush"``), which hands over a migrated
throwaway database in DATABASE_URL. For each gunicorn configuration (2 and 4 sync workers,
2 gthread workers × 4 threads) on a new departure:

* **rush**: capacity 400, 1,000 hold attempts (``adults=1``) from 32 concurrent clients:
  400 should succeed (302 to the details step) and the rest get 409 "sold out";
* **sold out**: capacity 50, 400 attempts: mostly the 409 path.

Each client is a thread with its own keep-alive ``http.client`` connection (sync workers
close it after every response, so those requests include a new TCP connection), its own
session cookie (created with SessionStore, as ``login`` does) and its own CSRF cookie and
token (read once from the booking page). After each phase the database is read: active
holds' seats must not exceed the capacity. Finally the hold POST is run once through
Django's test client to count its queries.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from bench.common import HOST, DatabaseSampler, Server, Usage, django_setup, log, percentile, section_main

CLIENTS = 32
CONFIGS = (("2-sync", 2, "sync", 1), ("4-sync", 4, "sync", 1), ("2-gthread-4", 2, "gthread", 4))
PHASES = (("rush", 400, 1000), ("sold out", 50, 400))  # (name, capacity, attempts)
TARGET_HOLDS_PER_SECOND = 200
TARGET_P95_MS = 150
TARGET_QUERIES = 8
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Client:
    cookie: str  # "sessionid=...; csrftoken=..."
    token: str = ""


@dataclass
class Phase:
    config: str
    name: str
    capacity: int
    departure_id: int
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, status); 0 = no answer
    seats_held: int = 0
    bookings: int = 0
    cpu: float = 0.0  # gunicorn (arbiter + workers) CPU seconds during the phase
    runqueue: float = 0.0  # gunicorn's seconds runnable but waiting for a CPU
    db_cpu: float = 0.0  # CPU seconds of this database's PostgreSQL backends
    db_active: float = 0.0  # mean active backends (sampled)
    db_lock_waits: float = 0.0  # mean backends waiting on a lock (sampled)

    def count(self, low: int, high: int) -> int:
        return sum(1 for _s, _e, status in self.samples if low <= status <= high)

    @property
    def holds(self) -> int:
        return self.count(302, 302)

    @property
    def sold_out(self) -> int:
        return self.count(409, 409)

    @property
    def server_errors(self) -> int:
        return self.count(500, 599)

    @property
    def other(self) -> int:
        return len(self.samples) - self.holds - self.sold_out - self.server_errors

    @property
    def oversold(self) -> int:
        return max(0, self.seats_held - self.capacity)

    def figures(self) -> dict:
        start = min(s for s, _e, _st in self.samples)
        end = max(e for _s, e, _st in self.samples)
        held_ends = [e for _s, e, status in self.samples if status == 302]
        selling = (max(held_ends) - start) if held_ends else None
        latencies = [(e - s) * 1000 for s, e, _st in self.samples]
        holds_ms = [(e - s) * 1000 for s, e, st in self.samples if st == 302]
        return {
            "config": self.config,
            "phase": self.name,
            "capacity": self.capacity,
            "attempts": len(self.samples),
            "holds": self.holds,
            "sold_out_409": self.sold_out,
            "server_errors_5xx": self.server_errors,
            "other_responses": self.other,
            "seconds": round(end - start, 3),
            "attempts_per_second": round(len(self.samples) / (end - start), 1),
            "holds_per_second": round(self.holds / selling, 1) if selling else None,
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "hold_p95_ms": round(percentile(holds_ms, 95), 1) if holds_ms else None,
            "seats_held": self.seats_held,
            "bookings_in_db": self.bookings,
            "oversold": self.oversold,
            "gunicorn_cpu_ms_per_request": round(self.cpu * 1000 / len(self.samples), 1),
            "gunicorn_cpu_wait_ms_per_request": round(self.runqueue * 1000 / len(self.samples), 1),
            "postgres_cpu_ms_per_request": round(self.db_cpu * 1000 / len(self.samples), 1),
            "postgres_active_backends": round(self.db_active, 1),
            "postgres_backends_waiting_on_lock": round(self.db_lock_waits, 1),
        }


def make_data(n_departures: int):
    """One published tour, one departure per configuration and phase (+1 for the query count), 32 travellers."""
    from django.utils import timezone

    from bench.data import session_cookies
    from tests.factories import DepartureFactory, RouteFactory, TourFactory, UserFactory

    route = RouteFactory(slug="bench-rush-route", name_en="Bench rush route", name_es="Ruta de la prueba")
    tour = TourFactory(route=route, slug="bench-rush-tour", max_group=12, adult_price=35000, child_price=17500)
    starts = timezone.now().replace(microsecond=0) + timedelta(days=30)
    departures = [DepartureFactory(tour=tour, starts_at=starts + timedelta(hours=i)) for i in range(n_departures)]
    users = [
        UserFactory(email=f"rush{i}@bench.example", first_name="Rush", last_name=str(i), password=None)
        for i in range(CLIENTS)
    ]
    clients = [Client(cookie=cookie) for cookie in session_cookies(users)]
    return tour, departures, users, clients


def fetch_tokens(port: int, departure_id: int, clients: list[Client]) -> None:
    """GET the booking page once per client: its CSRF cookie and the form's token."""
    for client in clients:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            connection.request("GET", f"/book/{departure_id}/", headers={"Cookie": client.cookie})
            response = connection.getresponse()
            body = response.read().decode()
            if response.status != 200:
                raise RuntimeError(f"GET /book/{departure_id}/ answered {response.status} (is the session valid?)")
            cookies = response.headers.get_all("Set-Cookie") or []
            csrf = next((c.split(";", 1)[0] for c in cookies if c.startswith("csrftoken=")), None)
            match = TOKEN_RE.search(body)
            if csrf is None or match is None:
                raise RuntimeError("the booking page set no CSRF cookie or has no csrfmiddlewaretoken")
            client.cookie = f"{client.cookie}; {csrf}"
            client.token = match.group(1)
        finally:
            connection.close()


def warm_up(port: int, departure_id: int, clients: list[Client]) -> None:
    """One GET of the booking page per client (loads templates and URL resolvers in every worker)."""
    for client in clients:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            connection.request("GET", f"/book/{departure_id}/", headers={"Cookie": client.cookie})
            connection.getresponse().read()
        finally:
            connection.close()


def rush(port: int, phase: Phase, attempts: int, clients: list[Client]) -> None:
    """``attempts`` POSTs from len(clients) threads, all starting together."""
    lock = threading.Lock()
    remaining = [attempts]
    barrier = threading.Barrier(len(clients))
    path = f"/book/{phase.departure_id}/"

    def one_client(client: Client) -> None:
        body = f"adults=1&children=0&departure={phase.departure_id}&csrfmiddlewaretoken={client.token}"
        headers = {
            "Cookie": client.cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        samples = []
        barrier.wait(timeout=30)
        try:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        break
                    remaining[0] -= 1
                start = time.perf_counter()
                try:
                    connection.request("POST", path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()  # reconnects on the next request
                    status = 0
                samples.append((start, time.perf_counter(), status))
        finally:
            connection.close()
            with lock:
                phase.samples.extend(samples)

    threads = [threading.Thread(target=one_client, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)


def seats_held(departure_id: int) -> tuple[int, int]:
    """(seats of active holds, held bookings) of the departure, read from the database."""
    from django.db.models import Sum
    from django.utils import timezone

    from bookings.models import Booking
    from tours.models import SeatHold
    from tours.selectors import active_holds_q

    held = (
        SeatHold.objects.filter(active_holds_q(timezone.now()), departure_id=departure_id).aggregate(n=Sum("units"))[
            "n"
        ]
        or 0
    )
    return held, Booking.objects.filter(departure_id=departure_id).count()


def query_count(departure_id: int, user) -> tuple[int, int, list[str]]:
    """The hold POST once through Django's test client: (status, statements, the statements)."""
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")
    client = TestClient(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/book/{departure_id}/", {"departure": departure_id, "adults": 1, "children": 0})
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(control)]
    return response.status_code, len(statements), statements


def body(section, options: dict) -> None:
    import os

    django_setup({})
    from django.db import connections

    from tours.models import Departure

    configs = [c for c in CONFIGS if c[0] in options["configs"].split(",")] if options.get("configs") else CONFIGS
    n_departures = len(configs) * len(PHASES) + 1
    _tour, departures, users, clients = make_data(n_departures)
    capacities = [capacity for _config in configs for _name, capacity, _n in PHASES] + [10]
    for departure, capacity in zip(departures, capacities, strict=True):
        Departure.objects.filter(pk=departure.pk).update(capacity=capacity)
    connections.close_all()  # no connection of ours lingers while gunicorn works
    env = dict(os.environ)
    phases: list[Phase] = []
    index = 0
    for name, workers, worker_class, threads in configs:
        # quiet: gunicorn's console (a "Conflict" warning per 409) goes to bench/results/gunicorn-rush-*.log
        server = Server(env, f"rush-{name}", workers, worker_class=worker_class, threads=threads, quiet=True)
        try:
            server.wait_ready()
            log(f"rush: gunicorn {server.label} on {server.base}")
            if not clients[0].token:
                fetch_tokens(server.port, departures[-1].pk, clients)
            warm_up(server.port, departures[-1].pk, clients)
            for phase_name, capacity, attempts in PHASES:
                phase = Phase(server.label, phase_name, capacity, departures[index].pk)
                index += 1
                log(f"rush: {server.label}, {phase_name}: {attempts} attempts at capacity {capacity}")
                usage = Usage(server.process.pid).start()
                database = DatabaseSampler(os.environ["DATABASE_URL"]).start()
                try:
                    rush(server.port, phase, attempts, clients)
                finally:
                    database.stop()
                usage.stop()
                phase.cpu, phase.runqueue = usage.cpu, usage.runqueue
                phase.db_cpu, phase.db_active, phase.db_lock_waits = (
                    database.cpu,
                    database.mean_active,
                    database.mean_lock_waits,
                )
                phase.seats_held, phase.bookings = seats_held(phase.departure_id)
                connections.close_all()
                phases.append(phase)
        finally:
            server.stop()
    status, count, statements = query_count(departures[-1].pk, users[0])
    report(section, phases, status, count, statements)


def report(section, phases: list[Phase], status: int, count: int, statements: list[str]) -> None:
    rows = [phase.figures() for phase in phases]
    section.details = {"phases": rows, "hold_post_queries": statements, "clients": CLIENTS}
    rush_rows = [row for row in rows if row["phase"] == "rush"]
    best = max(rush_rows, key=lambda row: row["holds_per_second"] or 0)
    section.tables.append(
        {
            "title": f"All configurations ({CLIENTS} clients; 'rush' = capacity 400, 'sold out' = capacity 50)",
            "header": [
                "gunicorn", "phase", "attempts", "holds", "holds/s", "attempts/s",
                "p50 ms", "p95 ms", "p99 ms", "409", "5xx", "other", "held/cap", "oversold", "app CPU",
                "app CPU-wait", "PG CPU", "PG active", "PG lock-wait",
            ],
            "rows": [
                [
                    row["config"], row["phase"], row["attempts"], row["holds"],
                    "—" if row["holds_per_second"] is None else f"{row['holds_per_second']:.0f}",
                    f"{row['attempts_per_second']:.0f}",
                    f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}",
                    row["sold_out_409"], row["server_errors_5xx"], row["other_responses"],
                    f"{row['seats_held']}/{row['capacity']}", row["oversold"],
                    f"{row['gunicorn_cpu_ms_per_request']:.1f}", f"{row['gunicorn_cpu_wait_ms_per_request']:.1f}",
                    f"{row['postgres_cpu_ms_per_request']:.1f}", f"{row['postgres_active_backends']:.1f}",
                    f"{row['postgres_backends_waiting_on_lock']:.1f}",
                ]
                for row in rows
            ],
        }
    )  # fmt: skip
    section.check("best configuration (highest holds/s in the rush)", best["config"])
    section.check(
        "holds/s (successful holds ÷ time to sell 400 seats)",
        f"{best['holds_per_second']:.0f}",
        f"≥ {TARGET_HOLDS_PER_SECOND}",
        (best["holds_per_second"] or 0) >= TARGET_HOLDS_PER_SECOND,
        best["holds_per_second"],
    )
    section.check(
        "attempts/s (all POSTs, rush phase)", f"{best['attempts_per_second']:.0f}", raw=best["attempts_per_second"]
    )
    section.check(
        "POST latency p50 / p95 / p99 (rush phase)",
        f"{best['p50_ms']:.1f} / {best['p95_ms']:.1f} / {best['p99_ms']:.1f} ms",
        f"p95 ≤ {TARGET_P95_MS} ms",
        best["p95_ms"] <= TARGET_P95_MS,
        best["p95_ms"],
    )
    section.check(
        "per POST: gunicorn CPU / gunicorn waiting for a CPU / PostgreSQL CPU",
        f"{best['gunicorn_cpu_ms_per_request']:.1f} / {best['gunicorn_cpu_wait_ms_per_request']:.1f} / "
        f"{best['postgres_cpu_ms_per_request']:.1f} ms",
    )
    section.check(
        "PostgreSQL backends active / of them waiting on a lock (mean)",
        f"{best['postgres_active_backends']:.1f} / {best['postgres_backends_waiting_on_lock']:.1f}",
    )
    oversold = sum(row["oversold"] for row in rows)
    section.check(
        "oversold seats (all configurations and phases)",
        str(oversold),
        "0",
        oversold == 0 and all(row["seats_held"] == row["holds"] for row in rows),
        oversold,
    )
    errors = sum(row["server_errors_5xx"] for row in rows)
    section.check("5xx responses (all)", str(errors), "0", errors == 0, errors)
    section.check("409 sold-out responses (all)", str(sum(row["sold_out_409"] for row in rows)))
    others = sum(row["other_responses"] for row in rows)
    if others:
        section.notes.append(f"{others} responses were neither 302, 409 nor 5xx (400/403, or no answer): see JSON")
    section.check(
        "queries of the hold POST (test client)",
        f"{count} (HTTP {status})",
        f"≤ {TARGET_QUERIES}",
        count <= TARGET_QUERIES and status == 302,
        count,
    )
    mismatched = [row for row in rows if row["seats_held"] != row["holds"]]
    for row in mismatched:
        section.notes.append(
            f"{row['config']} {row['phase']}: {row['holds']} clients saw a 302 but {row['seats_held']} seats are held"
        )


def main() -> int:
    return section_main("rush", "Hot-departure rush (booking holds)", body)


if __name__ == "__main__":
    raise SystemExit(main())
