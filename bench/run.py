#!/usr/bin/env python
"""Catalog benchmark: gunicorn + wrk on loopback, cached and uncached.

    make bench                     # or: .venv/bin/python bench/run.py [--duration 10]

Builds a throwaway database (PostgreSQL when reachable, else an SQLite file under
bench/results/), migrates it, loads the demo content, collects static files, then serves
the app with gunicorn (2 sync workers, DEBUG off) on 127.0.0.1 and a free port, twice:
once with CATALOG_CACHE_SECONDS=60 ("cached") and once with 0 ("uncached"). Each URL
(/hello/, home, a route page, a tour page, /hello/ again) gets two warm-up requests and
then a wrk run.
Prints a table and writes JSON to bench/results/. See bench/README.md for the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MEDIA = RESULTS / "media"  # demo photos of the bench database, not the developer's media/
LUA_SCRIPT = ROOT / "bench" / "report.lua"
DEMO_PHOTO_SIZE = "480x300"
HOST = "127.0.0.1"  # the only address this script ever sends requests to

# Targets, as a fraction of /hello/ req/s measured on the same server.
CACHED_CATALOG_TARGET = 0.85
UNCACHED_TOUR_TARGET = 0.20
ERROR_KEYS = ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")

SLUGS_SNIPPET = """
import json
from django.db.models import Count
from tours import selectors
route = selectors.route_list_published().order_by("-tour_count", "slug").first()
tour = selectors.tour_list(photos=False).annotate(n_stops=Count("stops")).order_by("-n_stops", "slug").first()
print("SLUGS " + json.dumps({"route": route and route.slug, "tour": tour and tour.slug}))
"""


@dataclass
class Row:
    page: str
    url: str
    mode: str
    status: int | None = None
    requests_per_second: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    requests: int | None = None
    errors: int | None = None
    ratio_to_hello: float | None = None
    target: float | None = None
    met: bool | None = None
    note: str = ""
    raw: dict = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run(cmd: list[str], env: dict[str, str], *, capture: bool = False) -> str:
    result = subprocess.run(cmd, cwd=ROOT, env=env, check=False, text=True, capture_output=capture)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"[bench] command failed ({result.returncode}): {' '.join(cmd)}")
    return result.stdout if capture else ""


# --- wrk ------------------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found: installing it with apt-get (running as root)")
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=apt_env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], env=apt_env, check=False)
            subprocess.run(install, env=apt_env, check=False)
        path = shutil.which("wrk")
        if path:
            return path
    raise SystemExit(
        "[bench] wrk is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y wrk; "
        "macOS: brew install wrk) and run make bench again."
    )


def wrk_run(wrk: str, url: str, *, threads: int, connections: int, duration: int) -> dict:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA_SCRIPT), url]
    result = subprocess.run(cmd, check=False, text=True, capture_output=True, timeout=duration + 60)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    figures = json.loads(line.removeprefix("BENCH "))
    figures["wrk_output"] = result.stdout
    return figures


# --- database -------------------------------------------------------------------------


class Database:
    """A throwaway database: a new PostgreSQL database, or a fresh SQLite file."""

    def __init__(self, choice: str):
        self.url = ""
        self.vendor = ""
        self._server_url = ""
        self._name = ""
        if choice in ("auto", "postgres"):
            server = self._postgres_server()
            if server:
                self._create_postgres(server)
                return
            if choice == "postgres":
                raise SystemExit("[bench] PostgreSQL is not reachable (set DATABASE_URL=postgres://...).")
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / "bench.sqlite3"
        path.unlink(missing_ok=True)
        self.url = f"sqlite:///{path}"
        self.vendor = "sqlite"

    @staticmethod
    def _postgres_server() -> str:
        """URL of the maintenance database on DATABASE_URL's server, or on local PostgreSQL."""
        import psycopg2

        configured = os.environ.get("DATABASE_URL", "")
        candidate = configured if configured.startswith(("postgres://", "postgresql://")) else ""
        candidate = candidate or "postgres://postgres@127.0.0.1:5432/postgres"
        parts = urlsplit(candidate)
        server = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        try:
            psycopg2.connect(server, connect_timeout=3).close()
        except psycopg2.Error:
            return ""
        return server

    def _create_postgres(self, server: str) -> None:
        import psycopg2

        self._server_url = server
        self._name = f"cacaotours_bench_{os.getpid()}_{int(time.time())}"
        connection = psycopg2.connect(server, connect_timeout=5)
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self._name}"')
        finally:
            connection.close()
        parts = urlsplit(server)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self._name}", parts.query, ""))
        self.vendor = "postgresql"

    def drop(self) -> None:
        if not self._name:
            return
        import psycopg2

        connection = psycopg2.connect(self._server_url, connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                try:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
                except psycopg2.Error:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{self._name}"')
        finally:
            connection.close()
        log(f"dropped database {self._name}")
        self._name = ""

    @property
    def label(self) -> str:
        return f"PostgreSQL ({self._name})" if self.vendor == "postgresql" else f"SQLite ({self.url[10:]})"


# --- gunicorn -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 10.0) -> tuple[int, int]:
    """GET ``url`` without cookies; (status, body length)."""
    request = urllib.request.Request(url, headers={"User-Agent": "cacaotours-bench"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, len(error.read())


class Server:
    def __init__(self, env: dict[str, str], mode: str, workers: int):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = RESULTS / f"gunicorn-{mode}.log"
        self.log_path.unlink(missing_ok=True)
        cmd = [
            sys.executable, "-m", "gunicorn", "cacaotours.wsgi:application",
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(workers),
            "--worker-class", "sync",
            "--log-level", "warning",
            "--error-logfile", str(self.log_path),
        ]  # fmt: skip
        if Path("/dev/shm").is_dir():
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"[bench] gunicorn exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                if fetch(f"{self.base}/hello/", timeout=2)[0] == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"[bench] gunicorn did not answer /hello/ within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- the run --------------------------------------------------------------------------


def base_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="cacaotours.settings.local",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(MEDIA),
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare(env: dict[str, str], *, photos: bool) -> dict[str, str]:
    manage = [sys.executable, "manage.py"]
    log("migrate")
    run([*manage, "migrate", "--noinput", "-v", "0"], env)
    # --force: the servers run with DEBUG off, and load_demo refuses that without it. Photos are drawn
    # small: drawing full-size ones takes a minute or more and the pages are built the same way.
    demo_args = ["--photo-size", DEMO_PHOTO_SIZE] if photos else ["--no-photos"]
    log(f"load_demo {' '.join(demo_args)}")
    shutil.rmtree(MEDIA, ignore_errors=True)
    run([*manage, "load_demo", "--force", "--quiet", *demo_args], env, capture=True)
    log("collectstatic")
    run([*manage, "collectstatic", "--noinput", "-v", "0"], env)
    output = run([*manage, "shell", "-c", SLUGS_SNIPPET], env, capture=True)
    line = next((ln for ln in output.splitlines() if ln.startswith("SLUGS ")), None)
    if line is None:
        raise SystemExit("[bench] could not read route and tour slugs from the database")
    slugs = json.loads(line.removeprefix("SLUGS "))
    pages = {"hello": "/hello/", "home": "/"}
    for kind, prefix in (("route", "/routes/"), ("tour", "/tours/")):
        if slugs.get(kind):
            pages[kind] = f"{prefix}{slugs[kind]}/"
        else:
            log(f"no published {kind} in the demo content: skipping the {kind} page")
    return pages


def target_for(page: str, mode: str) -> float | None:
    if mode == "cached" and page in ("home", "route", "tour"):
        return CACHED_CATALOG_TARGET
    if mode == "uncached" and page == "tour":
        return UNCACHED_TOUR_TARGET
    return None


def measure(row: Row, url: str, wrk: str, args) -> None:
    try:
        figures = wrk_run(wrk, url, threads=args.threads, connections=args.connections, duration=args.duration)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        row.note = str(error)[:200]
        return
    row.raw = figures
    row.requests = figures["requests"]
    row.requests_per_second = round(figures["requests"] / (figures["duration_us"] / 1e6), 1)
    row.p50_ms = round(figures["p50_us"] / 1000, 2)
    row.p95_ms = round(figures["p95_us"] / 1000, 2)
    row.p99_ms = round(figures["p99_us"] / 1000, 2)
    row.errors = sum(figures[key] for key in ERROR_KEYS)
    if figures["status_errors"]:
        row.note = f"{figures['status_errors']} non-2xx/3xx responses"


def bench_mode(mode: str, env: dict[str, str], pages: dict[str, str], wrk: str, args) -> list[Row]:
    """Measure hello, each catalog page, then hello again, on one gunicorn.

    The ratio uses the mean of the two hello runs, which brackets the pages: on a shared
    machine that evens out some of the drift.
    """
    server = Server(env, mode, args.workers)
    rows: list[Row] = []
    sequence = [("hello", pages["hello"])] + [(p, u) for p, u in pages.items() if p != "hello"]
    sequence.append(("hello", pages["hello"]))
    try:
        server.wait_ready()
        log(f"{mode}: gunicorn on {server.base} (pid {server.process.pid})")
        for page, path in sequence:
            url = f"{server.base}{path}"
            row = Row(page=page, url=path, mode=mode, target=target_for(page, mode))
            rows.append(row)
            # Warm-up: the first request fills the cache (cached mode), the second must be served from it.
            row.status = fetch(url)[0]
            row.status = fetch(url)[0]
            if row.status != 200:
                row.note = f"HTTP {row.status}: not measured"
                log(f"{mode} {path}: HTTP {row.status}, skipped (see {server.log_path})")
                continue
            log(f"{mode} {path}: wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
            measure(row, url, wrk, args)
    finally:
        server.stop()
    hellos = [r.requests_per_second for r in rows if r.page == "hello" and r.requests_per_second]
    hello = sum(hellos) / len(hellos) if hellos else None
    if len(hellos) == 2 and abs(hellos[0] - hellos[1]) > 0.2 * hello:
        log(f"{mode}: /hello/ moved from {hellos[0]:.0f} to {hellos[1]:.0f} req/s during the run: the machine is busy")
    for row in rows:
        if hello and row.requests_per_second is not None:
            row.ratio_to_hello = round(row.requests_per_second / hello, 3)
        if row.target is not None:
            row.met = bool(row.ratio_to_hello is not None and row.ratio_to_hello >= row.target and not row.errors)
    return rows


def fmt(value, spec: str = "", empty: str = "—") -> str:
    return empty if value is None else format(value, spec)


def print_table(rows: list[Row]) -> None:
    header = ("URL", "mode", "req/s", "p95 ms", "ratio to hello", "target", "met", "errors")
    lines = [
        (
            row.url,
            row.mode,
            fmt(row.requests_per_second, ",.0f"),
            fmt(row.p95_ms, ".1f"),
            fmt(row.ratio_to_hello, ".2f"),
            "—" if row.target is None else f"≥ {row.target:.2f}",
            "—" if row.met is None else ("yes" if row.met else "no"),
            row.note or fmt(row.errors, "d"),
        )
        for row in rows
    ]
    widths = [max(len(str(item)) for item in column) for column in zip(header, *lines, strict=True)]
    print()
    for index, line in enumerate([header, *lines]):
        print("  ".join(str(item).ljust(width) for item, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print()


def tool_version(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd, check=False, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per URL and mode (default 8)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto", help="database (default auto)")
    parser.add_argument("--no-photos", action="store_true", help="load the demo content without photos (faster)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args()

    started = time.monotonic()
    load_at_start = [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()
    database = Database(args.db)
    rows: list[Row] = []
    cache = "redis" if os.environ.get("REDIS_URL") else "locmem"
    try:
        log(f"database: {database.label}; cache: {cache}; load average {load_at_start} on {os.cpu_count()} CPUs")
        env = base_env(database.url)
        pages = prepare(env, photos=not args.no_photos)
        for mode, seconds in (("cached", "60"), ("uncached", "0")):
            rows += bench_mode(mode, {**env, "CATALOG_CACHE_SECONDS": seconds}, pages, wrk, args)
    finally:
        database.drop()

    print_table(rows)
    elapsed = round(time.monotonic() - started, 1)
    report = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_seconds": elapsed,
        "settings": {
            "database": database.vendor,
            "cache": cache,
            "demo_photos": DEMO_PHOTO_SIZE if not args.no_photos else None,
            "gunicorn_workers": args.workers,
            "wrk": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration},
            "targets": {"cached_catalog": CACHED_CATALOG_TARGET, "uncached_tour": UNCACHED_TOUR_TARGET},
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "wrk": tool_version(["wrk", "--version"]),
            "git_commit": tool_version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        },
        "rows": [{k: v for k, v in asdict(row).items() if k != "raw"} | {"wrk": row.raw} for row in rows],
    }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (RESULTS / f"bench-{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {RESULTS / f'bench-{stamp}.json'} (and latest.json) in {elapsed}s")

    unmeasured = [row for row in rows if row.requests_per_second is None]
    if unmeasured:
        log(f"{len(unmeasured)} URL(s) could not be measured: " + ", ".join(f"{r.mode} {r.url}" for r in unmeasured))
        return 1
    if args.strict and any(row.met is False for row in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
