"""Shared pieces of the benchmarks: the throwaway database, gunicorn, Redis and Celery
processes, the figures of a section, percentiles and CPU time from /proc.

Everything here talks to 127.0.0.1 only, and every process it starts is stopped (its whole
process group) by the caller's ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MEDIA = RESULTS / "media"  # demo photos of the bench database, not the developer's media/
HOST = "127.0.0.1"  # the only address the benchmarks ever send requests to


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run(cmd: list[str], env: dict[str, str], *, capture: bool = False) -> str:
    result = subprocess.run(cmd, cwd=ROOT, env=env, check=False, text=True, capture_output=capture)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"[bench] command failed ({result.returncode}): {' '.join(cmd)}")
    return result.stdout if capture else ""


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


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop_group(process: subprocess.Popen | None, *, grace: float = 10.0) -> None:
    """SIGTERM the process group we started, SIGKILL it after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


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

    def copy(self, suffix: str) -> Database:
        """A new throwaway database holding what this one holds now (PostgreSQL: CREATE DATABASE …
        TEMPLATE, which needs nobody connected to this one; SQLite: a copy of the file)."""
        other = Database.__new__(Database)
        other.vendor, other._server_url = self.vendor, self._server_url
        if self.vendor != "postgresql":
            path = RESULTS / f"bench-{suffix}.sqlite3"
            shutil.copyfile(self.url.removeprefix("sqlite:///"), path)
            other.url, other._name = f"sqlite:///{path}", ""
            return other
        import psycopg2

        other._name = f"{self._name}_{suffix}"
        connection = psycopg2.connect(self._server_url, connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{other._name}" TEMPLATE "{self._name}"')
        finally:
            connection.close()
        parts = urlsplit(self._server_url)
        other.url = urlunsplit((parts.scheme, parts.netloc, f"/{other._name}", parts.query, ""))
        return other

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
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    return env


# --- gunicorn -------------------------------------------------------------------------


class Server:
    """gunicorn serving ``cacaotours.wsgi`` on 127.0.0.1 and a free port."""

    def __init__(
        self,
        env: dict[str, str],
        name: str,
        workers: int,
        *,
        worker_class: str = "sync",
        threads: int = 1,
        quiet: bool = False,
    ):
        """``quiet``: the app's own console logging (e.g. a "Conflict" warning per 409) goes to the log file too."""
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.label = f"{workers} × {worker_class}" + (f" × {threads} threads" if worker_class == "gthread" else "")
        self.log_path = RESULTS / f"gunicorn-{name}.log"
        self.log_path.unlink(missing_ok=True)
        cmd = [
            sys.executable, "-m", "gunicorn", "cacaotours.wsgi:application",
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--log-level", "warning",
            "--error-logfile", str(self.log_path),
        ]  # fmt: skip
        if worker_class == "gthread":
            cmd += ["--threads", str(threads)]
        if Path("/dev/shm").is_dir():
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        if quiet:
            with self.log_path.open("ab") as handle:
                self.process = subprocess.Popen(
                    cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
                )
        else:
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
        stop_group(self.process)


# --- Redis and Celery -------------------------------------------------------------------


class Redis:
    """A throwaway Redis: our own redis-server on a free port (nothing shared with anyone).

    Without the redis-server executable, database ``fallback_db`` of the server in REDIS_URL
    is used instead, if it is empty, and flushed at the end.
    """

    def __init__(self, log_path: Path, *, fallback_db: int = 15):
        self.process: subprocess.Popen | None = None
        self._flush_db = False
        self._log_path = log_path
        if shutil.which("redis-server"):
            self.port = free_port()
            self.url = f"redis://{HOST}:{self.port}/0"
            self.label = f"own redis-server on port {self.port}"
            self._spawn()
        else:
            configured = os.environ.get("REDIS_URL", "")
            if not configured:
                raise RuntimeError("needs redis-server (or REDIS_URL pointing at a Redis server)")
            parts = urlsplit(configured)
            self.url = urlunsplit((parts.scheme, parts.netloc, f"/{fallback_db}", parts.query, ""))
            self.label = f"database {fallback_db} of {parts.hostname}:{parts.port or 6379}"
        import redis

        self.client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        self.wait_ready()
        if self.process is None:
            if self.client.dbsize():
                raise RuntimeError(f"Redis {self.label} is not empty: not using it for the benchmark")
            self._flush_db = True

    def _spawn(self) -> None:
        """Start our redis-server on ``self.port`` (nothing saved to disk: a restart starts empty)."""
        executable = shutil.which("redis-server")
        cmd = [executable, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        with self._log_path.open("ab") as handle:
            self.process = subprocess.Popen(
                cmd,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 10.0) -> None:
        import redis

        def pong() -> bool:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                return bool(self.client.ping())
            return False

        wait_for(pong, timeout=timeout, what="Redis", interval=0.05)

    def queue_length(self, queue: str = "celery") -> int:
        return int(self.client.llen(queue))

    def stop(self) -> None:
        if self._flush_db:
            with contextlib.suppress(Exception):
                self.client.flushdb()
        stop_group(self.process)


class Worker:
    """One Celery worker process (``celery -A cacaotours worker``), in its own process group."""

    def __init__(self, env: dict[str, str], name: str, *, pool: str = "prefork", concurrency: int = 2):
        self.label = f"--pool={pool} -c {concurrency}"
        self.log_path = RESULTS / f"celery-{name}.log"
        self.log_path.unlink(missing_ok=True)
        cmd = [
            sys.executable, "-m", "celery", "-A", "cacaotours", "worker",
            f"--pool={pool}", "-c", str(concurrency), "-Q", "celery,routing", "-l", "warning",
            "--without-gossip", "--without-mingle", "-n", f"bench-{name}@%h",
        ]  # fmt: skip
        with self.log_path.open("ab") as handle:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, app, timeout: float = 60.0) -> None:
        """Until the worker answers a broadcast ping (it then consumes its queue)."""

        import redis
        from kombu.exceptions import OperationalError

        def pong() -> bool:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"[bench] the Celery worker exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                return bool(app.control.ping(timeout=0.5))
            except (OSError, OperationalError, redis.exceptions.ConnectionError):
                return False  # a pooled broker connection broken earlier (a Redis restart): the next try gets another

        wait_for(pong, timeout=timeout, what="the Celery worker", interval=0.2)

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        stop_group(self.process, grace=15)


# --- measurements -------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, from /proc/<pid>/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> dict[int, float]:
    """``root`` and all its live descendants (e.g. prefork children): pid → CPU seconds (user + system)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _cpu) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return {pid: stats[pid][1] for pid in tree if pid in stats}


def process_tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system, from /proc/<pid>/stat) of ``root`` and its live descendants."""
    return sum(process_tree(root).values())


def process_tree_runqueue_seconds(root: int) -> float:
    """Time ``root`` and its live descendants spent runnable but waiting for a CPU (/proc/<pid>/schedstat).

    On a machine shared with other work this is the part of the wall time lost to the others.
    0.0 where the kernel has no schedstat.
    """
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    return total / 1e9


@dataclass
class Usage:
    """CPU and run-queue time of a process tree between ``start()`` and ``stop()``."""

    root: int
    cpu: float = 0.0
    runqueue: float = 0.0

    def start(self) -> Usage:
        self.cpu = -process_tree_cpu_seconds(self.root)
        self.runqueue = -process_tree_runqueue_seconds(self.root)
        return self

    def stop(self) -> Usage:
        self.cpu += process_tree_cpu_seconds(self.root)
        self.runqueue += process_tree_runqueue_seconds(self.root)
        return self


class DatabaseSampler:
    """PostgreSQL's side of a phase: the CPU of this database's backends, and what they wait on.

    A thread samples ``pg_stat_activity`` every 20 ms (backends of this database, not the
    sampler's own): how many are active, and how many wait on a lock (e.g. the departure's
    row lock). Backend CPU is read from /proc/<pid>/stat at start and stop (PostgreSQL must
    run on this machine; otherwise it stays 0).
    """

    QUERY = (
        "SELECT pid, state = 'active', wait_event_type = 'Lock' FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )

    def __init__(self, database_url: str):
        self.url = database_url
        self.samples: list[tuple[int, int]] = []
        self.cpu = 0.0
        self._start_cpu: dict[int, float] = {}
        self._stop = None
        self._thread = None
        self._connection = None

    def _pids(self) -> set[int]:
        with self._connection.cursor() as cursor:
            cursor.execute(self.QUERY)
            return {row[0] for row in cursor.fetchall()}

    @staticmethod
    def _cpu(pids) -> dict[int, float]:
        return {pid: stat[1] for pid in pids if (stat := _stat(pid)) is not None}

    def start(self) -> DatabaseSampler:
        import threading

        import psycopg2

        self._connection = psycopg2.connect(self.url, connect_timeout=5)
        self._connection.autocommit = True
        self._start_cpu = self._cpu(self._pids())
        self._stop = threading.Event()

        def sample() -> None:
            with self._connection.cursor() as cursor:
                while not self._stop.wait(0.02):
                    cursor.execute(self.QUERY)
                    rows = cursor.fetchall()
                    self.samples.append((sum(1 for r in rows if r[1]), sum(1 for r in rows if r[2])))

        self._thread = threading.Thread(target=sample, name="pg-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> DatabaseSampler:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            end = self._cpu(self._pids())
        finally:
            self._connection.close()
        self.cpu = sum(cpu - self._start_cpu.get(pid, 0.0) for pid, cpu in end.items())
        return self

    @property
    def mean_active(self) -> float:
        return sum(a for a, _l in self.samples) / len(self.samples) if self.samples else 0.0

    @property
    def mean_lock_waits(self) -> float:
        return sum(w for _a, w in self.samples) / len(self.samples) if self.samples else 0.0


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0–100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def load_average() -> list[float] | None:
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None


# --- a section's figures -------------------------------------------------------------------------


@dataclass
class Check:
    """One reported figure: its value as printed, the target and whether it is met (None: no target)."""

    figure: str
    value: str
    target: str = "—"
    met: bool | None = None
    raw: float | int | None = None


@dataclass
class Section:
    name: str
    title: str
    checks: list[Check] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)  # {"title", "header", "rows"}
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    error: str = ""

    def check(self, figure: str, value: str, target: str = "—", met: bool | None = None, raw=None) -> Check:
        item = Check(figure, value, target, met, raw)
        self.checks.append(item)
        return item

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")


def section_main(name: str, title: str, body, argv: list[str] | None = None) -> int:
    """Entry point of a section module: ``python -m bench.<name> --out result.json [options]``.

    ``body(section, args)`` fills the section; an exception is recorded as the section's error
    (the report says so) after the body's own ``finally`` blocks have cleaned up.
    """
    import argparse

    parser = argparse.ArgumentParser(prog=f"bench.{name}")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--option", action="append", default=[], help="key=value, passed through by run.py")
    args = parser.parse_args(argv)
    options = dict(item.split("=", 1) for item in args.option)
    section = Section(name=name, title=title)
    status = 0

    def terminate(signum, frame):  # run.py's timeout: unwind, so that every finally block cleans up
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        body(section, options)
    except BaseException as exc:  # recorded, then re-raised for KeyboardInterrupt
        import traceback

        traceback.print_exc()
        section.error = f"{exc.__class__.__name__}: {exc}"[:500]
        status = 1
        if isinstance(exc, KeyboardInterrupt):
            section.write(args.out)
            raise
    section.write(args.out)
    return status


def django_setup(extra_env: dict[str, str]) -> None:
    """Configure Django in this (section) process with the bench settings plus ``extra_env``."""
    os.environ.update(extra_env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cacaotours.settings.local"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
