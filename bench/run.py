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
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (bench/run.py): make the bench package importable
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    MEDIA,
    RESULTS,
    Database,
    Server,
    base_env,
    fetch,
    load_average,
    log,
    run,
)

LUA_SCRIPT = ROOT / "bench" / "report.lua"
DEMO_PHOTO_SIZE = "480x300"
SECTIONS = ("catalog", "rush", "webhooks", "routing", "portal", "faults")
# seconds, then SIGTERM (cleanup), then SIGKILL; faults: plus the Stripe outage beyond its default 60 s
SECTION_TIMEOUT = {"rush": 300, "webhooks": 300, "routing": 3000, "faults": 900}

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


# --- the run --------------------------------------------------------------------------


def prepare(env: dict[str, str], *, catalog: bool, photos: bool) -> dict[str, str]:
    """Migrate, collect static files and, for the catalog, load the demo content; the catalog's pages."""
    manage = [sys.executable, "manage.py"]
    log("migrate")
    run([*manage, "migrate", "--noinput", "-v", "0"], env)
    log("collectstatic")
    run([*manage, "collectstatic", "--noinput", "-v", "0"], env)
    if not catalog:
        return {}
    # --force: the servers run with DEBUG off, and load_demo refuses that without it. Photos are drawn
    # small: drawing full-size ones takes a minute or more and the pages are built the same way.
    demo_args = ["--photo-size", DEMO_PHOTO_SIZE] if photos else ["--no-photos"]
    log(f"load_demo {' '.join(demo_args)}")
    shutil.rmtree(MEDIA, ignore_errors=True)
    run([*manage, "load_demo", "--force", "--quiet", *demo_args], env, capture=True)
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


# --- the other sections (each in its own process: bench/rush.py, webhooks.py, routing.py) ---------------


def run_section(name: str, env: dict[str, str], options: dict[str, str], timeout: int | None = None) -> dict:
    """Run ``python -m bench.<name>`` on the throwaway database; its figures, as a dict.

    The section starts and stops its own gunicorn, Redis, Celery worker and Stripe-shaped
    server. On a timeout it gets SIGTERM (its finally blocks stop what it started), then SIGKILL.
    """
    out = RESULTS / f"section-{name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", f"bench.{name}", "--out", str(out)]
    for key, value in options.items():
        cmd += ["--option", f"{key}={value}"]
    started = time.monotonic()
    timeout = timeout or SECTION_TIMEOUT[name]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"{name}: still running after {timeout} s: stopping it")
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    except BaseException:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        raise
    if out.exists():
        result = json.loads(out.read_text())
    else:
        result = {"name": name, "title": name, "checks": [], "tables": [], "notes": [], "details": {}}
        result["error"] = f"exited with {process.returncode} without figures"
    result["elapsed_seconds"] = round(time.monotonic() - started, 1)
    return result


def print_grid(header: list[str], lines: list[list], indent: str = "") -> None:
    lines = [[str(item) for item in line] for line in lines]
    widths = [max(len(str(item)) for item in column) for column in zip(header, *lines, strict=True)]
    for index, line in enumerate([header, *lines]):
        print(indent + "  ".join(str(item).ljust(width) for item, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            print(indent + "  ".join("-" * width for width in widths))


def print_section(result: dict) -> None:
    print(f"== {result['title']} ({result.get('elapsed_seconds', '?')} s) ==")
    if result.get("error"):
        print(f"   NOT COMPLETED: {result['error']}")
    if result.get("skipped"):
        print(f"   NOT RUN: {result['skipped']}")
    if result["checks"]:
        print_grid(
            ["figure", "value", "target", "met"],
            [
                [c["figure"], c["value"], c["target"], "—" if c["met"] is None else ("yes" if c["met"] else "no")]
                for c in result["checks"]
            ],
        )
    for table in result["tables"]:
        print()
        print(f"   {table['title']}")
        print_grid(table["header"], table["rows"], indent="   ")
    for note in result["notes"]:
        print(f"   * {note}")
    print()


def tool_version(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd, check=False, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({', '.join(SECTIONS)})")
    parser.add_argument("--duration", type=int, default=8, help="catalog: seconds of load per URL and mode (default 8)")
    parser.add_argument("--connections", type=int, default=16, help="catalog: wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="catalog: wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="catalog: gunicorn workers (default 2)")
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto", help="database (default auto)")
    parser.add_argument("--no-photos", action="store_true", help="load the demo content without photos (faster)")
    parser.add_argument("--rush-configs", default="", help="rush: gunicorn configs (2-sync,4-sync,2-gthread-4)")
    parser.add_argument("--webhook-events", type=int, default=1000, help="webhooks: events per phase (default 1000)")
    parser.add_argument("--routing-bookings", type=int, default=None, help="routing: confirmed bookings (phase 1)")
    parser.add_argument("--routing-live-seconds", type=int, default=None, help="routing: 1 booking/s for this long")
    parser.add_argument("--routing-pool", default=None, help="routing: worker pool, e.g. prefork:2 or threads:4")
    parser.add_argument("--faults", default="", help="faults: runs (redis,postgres,stripe; default all)")
    parser.add_argument("--fault-seconds", type=int, default=None, help="faults: Stripe outage, seconds (default 60)")
    parser.add_argument("--redis-fault-seconds", type=int, default=None, help="faults: Redis outage (default 12)")
    parser.add_argument("--postgres-fault-seconds", type=int, default=None, help="faults: PostgreSQL down (default 5)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")

    started = time.monotonic()
    load_at_start = load_average()
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk() if "catalog" in wanted else ""
    database = Database(args.db)
    rows: list[Row] = []
    sections: list[dict] = []
    cache = "redis" if os.environ.get("REDIS_URL") else "locmem"
    options = {
        "rush": {"configs": args.rush_configs},
        "webhooks": {"events": str(args.webhook_events)},
        "routing": {
            "bookings": args.routing_bookings,
            "live_seconds": args.routing_live_seconds,
            "pool": args.routing_pool,
        },
        "faults": {
            "runs": args.faults,
            "stripe_seconds": args.fault_seconds,
            "redis_seconds": args.redis_fault_seconds,
            "postgres_seconds": args.postgres_fault_seconds,
        },
    }
    timeouts = {"faults": SECTION_TIMEOUT["faults"] + max(0, (args.fault_seconds or 60) - 60)}
    try:
        log(f"database: {database.label}; cache: {cache}; load average {load_at_start} on {os.cpu_count()} CPUs")
        env = base_env(database.url)
        pages = prepare(env, catalog="catalog" in wanted, photos=not args.no_photos)
        if "catalog" in wanted:
            for mode, seconds in (("cached", "60"), ("uncached", "0")):
                rows += bench_mode(mode, {**env, "CATALOG_CACHE_SECONDS": seconds}, pages, wrk, args)
        for name in SECTIONS[1:]:
            if name not in wanted or name == "portal":  # portal: its own script, below
                continue
            if database.vendor != "postgresql":
                sections.append(
                    {"name": name, "title": name, "checks": [], "tables": [], "notes": [], "details": {},
                     "error": "", "skipped": "needs PostgreSQL (row locks under real concurrency): not run on SQLite"}
                )  # fmt: skip
                continue
            # Each section on its own copy of the migrated database: what one leaves behind (10,000
            # bookings whose e-mails the bench never sent, events stored but never handled) would
            # otherwise be work for the next one's sweepers.
            own = database.copy(name)
            log(f"section {name} on {own.label} (load average {load_average()})")
            section_options = {k: str(v) for k, v in options[name].items() if v not in (None, "")}
            try:
                sections.append(
                    run_section(
                        name,
                        {**env, "DATABASE_URL": own.url, "CATALOG_CACHE_SECONDS": "0"},
                        section_options,
                        timeouts.get(name),
                    )
                )
            finally:
                own.drop()
    finally:
        database.drop()

    load_at_end = load_average()
    print()
    print(f"Benchmark report — {os.cpu_count()} CPUs, load average {load_at_start} at start, {load_at_end} at end")
    print()
    if rows:
        print("== Catalog pages (gunicorn 2 sync workers + wrk) ==")
        print_table(rows)
    for result in sections:
        print_section(result)
    if "portal" in wanted:
        # The leader portal at 50,000 ledger rows (bench/portal.py makes its own PostgreSQL database).
        print("== Leader portal (bench/portal.py) ==", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "portal.py")], cwd=ROOT, check=False)
        print()
    checks = [c for result in sections for c in result["checks"] if c["met"] is not None]
    checks += [{"met": row.met} for row in rows if row.met is not None]
    met = sum(1 for c in checks if c["met"])
    print(f"Targets met: {met} of {len(checks)}")
    elapsed = round(time.monotonic() - started, 1)
    report = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_seconds": elapsed,
        "settings": {
            "sections": wanted,
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
            "load_average_at_end": load_at_end,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "wrk": tool_version(["wrk", "--version"]),
            "git_commit": tool_version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        },
        "rows": [{k: v for k, v in asdict(row).items() if k != "raw"} | {"wrk": row.raw} for row in rows],
        "sections": sections,
    }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (RESULTS / f"bench-{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {RESULTS / f'bench-{stamp}.json'} (and latest.json) in {elapsed}s")

    unmeasured = [row for row in rows if row.requests_per_second is None]
    if unmeasured:
        log(f"{len(unmeasured)} URL(s) could not be measured: " + ", ".join(f"{r.mode} {r.url}" for r in unmeasured))
        return 1
    failed = [result["name"] for result in sections if result.get("error")]
    if failed:
        log(f"section(s) not completed: {', '.join(failed)}")
        return 1
    if args.strict and any(not c["met"] for c in checks):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
