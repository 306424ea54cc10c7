"""Part 4: load on gunicorn (2 workers) and PostgreSQL, against a bare Django view.

:func:`run_load` starts ``gunicorn bench.wsgi``-style (``config.wsgi`` with
``DJANGO_SETTINGS_MODULE=bench.settings``), signs a member in (a session
cookie made in the database), and drives it from a second process with
``wrk`` (``bench/wrk.lua``): ``connections`` clients for ``seconds`` over the
SIG page, a meeting page and the personal feed (sending the session and CSRF
cookies, as the member's browser does), then the same load on
``/bench/bare/`` (the floor: the same settings and middleware, no query, no
template). ``CACHE_URL`` is the local Redis when it answers (``BENCH_REDIS``),
as a deployment with several web processes sets it (it holds only allauth's
rate limits: pages, feeds and sessions are cached in each process). Returns
requests/s and p50/p95/p99 latency (ms) for both.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import PY, REDIS, ROOT, bench_env, read_part, redis_available, run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _subjects(env: dict[str, str]) -> dict:
    """The member's session cookie and the three paths, from ``python -m bench.load``."""
    return read_part(run(["-m", "bench.load"], env))


def compute(argv: list[str]) -> dict:
    """In the database's process: a session for the SIG's member, and the paths to load."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.urls import reverse

    from bench.pages import find_subjects

    s = find_subjects()
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(s.member.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = s.member.get_session_auth_hash()
    session.create()
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "paths": [
            reverse("events:group_detail", kwargs={"slug": s.sig.slug}),
            reverse("events:meeting_detail", kwargs={"pk": s.upcoming.pk}),
            reverse("events:personal_feed", kwargs={"token": s.member.calendar_token}),
        ],
    }


def _wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within a minute")


def _wrk(port: int, paths: list[str], cookie: str, *, connections: int, seconds: int) -> dict:
    env = {**os.environ, "BENCH_PATHS": " ".join(paths), "BENCH_COOKIE": cookie}
    wrk = shutil.which("wrk") or "wrk"
    result = subprocess.run(  # noqa: S603 - wrk with our own arguments
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
         "-s", str(ROOT / "bench" / "wrk.lua"), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")


def run_load(database_url: str, *, connections: int, seconds: int, workers: int = 2) -> dict:
    """Load the three pages, then the bare view, on one gunicorn; return both results.

    Raises RuntimeError if wrk is missing (``bench/run`` installs it) or a
    run fails. Each path is fetched once first, so both runs start warm.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (bench/run installs it with apt-get).")
    cache = REDIS if redis_available() else ""
    env = bench_env(database_url, CACHE_URL=cache)
    subjects = _subjects(env)
    port = _free_port()
    log = open(Path(ROOT / "bench" / "results" / "gunicorn.log"), "w")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603 - the venv's gunicorn
        [str(Path(PY).with_name("gunicorn")), "config.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "120",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_up(port)
        cookie = subjects["cookie"]
        for path in subjects["paths"]:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                assert response.status == 200, (path, response.status)
                # Send back the CSRF cookie the first page sets, as a browser does.
                for header in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    if name == "csrftoken" and "csrftoken=" not in cookie:
                        cookie += f"; csrftoken={rest.split(';', 1)[0]}"
        pages = _wrk(port, subjects["paths"], cookie, connections=connections, seconds=seconds)
        bare = _wrk(port, ["/bench/bare/"], cookie, connections=connections, seconds=seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    return {"paths": subjects["paths"], "connections": connections, "seconds": seconds,
            "workers": workers, "rate_limit_cache": cache or "each process's memory",
            "pages": pages, "bare": bare}


if __name__ == "__main__":
    from bench.common import part_main

    part_main(compute)
