"""Shared helpers: the environment each part runs in, databases, timing, the result shape.

Every part runs as its own process (``python -m bench.<part>``) with
``DJANGO_SETTINGS_MODULE=bench.settings`` and the production-like
environment of :func:`bench_env`, and writes its figures as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DATA = ROOT / "bench" / "results"
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
# The shared cache of the load test (pages, feeds, sessions), as a deployment with
# several web processes has it (README, "Scale-out"). Empty: each process its own.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """A part's environment: production settings (DEBUG off, database tasks) on ``database_url``.

    Mail goes to the console unless ``extra`` says otherwise; papers to a
    folder of the bench's own; the database connection is kept between
    requests (``DB_CONN_MAX_AGE=60``, as a production deployment would).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
        "MAIL_TRANSPORT": "console",
        "MAIL_RATE_PER_MINUTE": "0",
        "TASK_BACKEND": "database",
        "PRIVATE_FILES_ROOT": str(_private_root(database_url)),
        "SITE_URL": "http://localhost:8000",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "PAGE_CACHE": "1",  # as in production, whatever the shell says
        "CACHE_URL": "",
    }
    env.pop("SIGHUB_TESTING", None)
    env.update(extra)
    return env


def _private_root(database_url: str) -> Path:
    """The papers folder of one bench database (emptied with it by :func:`fresh_database`)."""
    name = database_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".sqlite3")
    return DATA / "private" / name


def sqlite_url(name: str) -> str:
    """A SQLite database file of the bench's own, ``bench/results/<name>.sqlite3``."""
    DATA.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA / name}.sqlite3"


def postgres_url(name: str) -> str:
    """A PostgreSQL database of the bench's own (``BENCH_POSTGRES`` server), ``benchh_<name>``."""
    return f"{POSTGRES}/benchh_{name}"


def postgres_available() -> bool:
    """Whether the PostgreSQL server of :data:`POSTGRES` answers."""
    import psycopg

    try:
        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def redis_available() -> bool:
    """Whether the Redis server of :data:`REDIS` answers a PING."""
    if not REDIS:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def fresh_database(url: str) -> None:
    """Drop and create the database ``url`` (a SQLite file is deleted), and empty its papers."""
    import shutil

    shutil.rmtree(_private_root(url), ignore_errors=True)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(args: list[str], env: dict[str, str], *, quiet: bool = True, timeout: int = 900) -> str:
    """Run ``python args...`` in the repository with ``env``; return its stdout.

    Raises RuntimeError with the process's output if it fails.
    """
    result = subprocess.run(  # noqa: S603 - our own modules, with our own arguments
        [PY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-5000:]}")
    if not quiet:
        sys.stdout.write(result.stdout)
    return result.stdout


def prepare_database(url: str, *, scale: float, seed: int = 1) -> float:
    """A fresh database at ``url`` with the schema and demo data at ``scale``; seconds taken."""
    started = time.perf_counter()
    fresh_database(url)
    env = bench_env(url)
    run(["manage.py", "migrate", "--no-input", "-v", "0"], env)
    run(["manage.py", "generate_demo_data", "--scale", str(scale), "--seed", str(seed)], env)
    return time.perf_counter() - started


def median_ms(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> float:
    """The median wall time of ``fn()`` over ``repeat`` calls after ``warmup`` calls, in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def part_main(compute: Callable[[list[str]], dict]) -> None:
    """Entry point of a part's process: set Django up, ``compute(argv)``, print the JSON."""
    import django

    django.setup()
    result = compute(sys.argv[1:])
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")


def read_part(stdout: str) -> dict:
    """The JSON a part printed (its line starting ``BENCH_JSON``)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"No BENCH_JSON line in:\n{stdout[-2000:]}")


def figure(name: str, ours: float | None, floor: float | None, *, unit: str, target: str,
           ok: bool | None, note: str = "") -> dict:
    """One row of the table: our figure, its floor, their ratio, the target and the verdict."""
    ratio = (ours / floor) if ours is not None and floor not in (None, 0) else None
    return {"name": name, "ours": ours, "floor": floor, "ratio": ratio, "unit": unit,
            "target": target, "pass": ok, "note": note}
