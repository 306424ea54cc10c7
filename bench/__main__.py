"""``python -m bench [--quick]``: every figure of issue 7 beside its floor, in one run.

1. Queries per page, every page type, at two scales (1 and 10; quick: 0.3
   and 1) on PostgreSQL: equal at both, and at most 15.
2. A personal feed of 1,000 meetings through the view against icalendar
   alone (at most 1.5x); a matching If-None-Match against a full render
   (at most 5%).
3. Scheduling a meeting for a SIG of 1,000 active members (quick: 300):
   the request, on SQLite and PostgreSQL (under 300 ms), beside the bare
   inserts it must make; the worker handing every invitation to a local
   SMTP server (aiosmtpd, rate limit off), beside Django's SMTP backend
   sending the same messages.
4. Load: gunicorn, 2 workers, PostgreSQL at scale 10 (quick: 1), wrk with
   200 clients for 60 s (quick: 50 for 10 s) over the SIG page, a meeting
   page and the personal feed; the same on a bare view (throughput at
   least 40% of the bare view's, p95 at most 3x).

Prints the table and writes ``bench/results/results.json``. Exits 1 if a
target is missed. Databases are the bench's own (``bench/results/*.sqlite3``,
``benchh_*`` on the PostgreSQL server of ``BENCH_POSTGRES``, default
``postgres://postgres@127.0.0.1:5432``), made fresh each run unless ``--reuse``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time

from bench.common import (
    DATA,
    bench_env,
    figure,
    postgres_available,
    postgres_url,
    prepare_database,
    read_part,
    run,
    sqlite_url,
)
from bench.pages import MAX_QUERIES


def _scale_name(scale: float) -> str:
    return f"s{scale:g}".replace(".", "_")


def _database(kind: str, scale: float, *, reuse: bool, timings: dict) -> str:
    url = (postgres_url if kind == "postgresql" else sqlite_url)(_scale_name(scale))
    if reuse and _has_demo_data(url):
        return url
    print(f"  generating scale {scale:g} on {kind}...", flush=True)
    timings[f"generate {kind} scale {scale:g} (s)"] = round(
        prepare_database(url, scale=scale), 1)
    return url


def _has_demo_data(url: str) -> bool:
    try:
        out = run(["manage.py", "shell", "-v", "0", "-c",
                   "from members.models import Person; "
                   "print(Person.objects.filter(email__endswith='@demo.nhs.net').exists())"],
                  bench_env(url))
    except RuntimeError:
        return False
    return out.strip().endswith("True")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def part_pages(small_url: str, large_url: str, small: float, large: float) -> list[dict]:
    """Rows of part 1: each page's queries at the large scale against the small one."""
    counts = {}
    for url in (small_url, large_url):
        counts[url] = read_part(run(["-m", "bench.pages"], bench_env(url)))
    rows = []
    for name, at_small in counts[small_url].items():
        at_large = counts[large_url][name]
        ok = (at_small["status"] == at_large["status"] == 200
              and at_small["queries"] == at_large["queries"] <= MAX_QUERIES)
        note = "" if at_large["status"] == 200 else f"HTTP {at_large['status']}"
        rows.append(figure(f"queries: {name}", at_large["queries"], at_small["queries"],
                           unit="queries", target=f"equal, <= {MAX_QUERIES}", ok=ok,
                           note=note or f"scale {large:g} vs {small:g}"))
    return rows


def part_feed(url: str, *, meetings: int) -> tuple[list[dict], dict]:
    """Rows of part 2 and the raw figures."""
    raw = read_part(run(["-m", "bench.feed", "--meetings", str(meetings)], bench_env(url)))
    rows = [
        figure(f"feed of {meetings} meetings: view vs icalendar alone", raw["view_ms"],
               raw["floor_ms"], unit="ms", target="<= 1.5x",
               ok=raw["view_ms"] <= 1.5 * raw["floor_ms"], note=raw["database"]),
        figure("feed: If-None-Match (304) vs full render", raw["not_modified_ms"],
               raw["view_ms"], unit="ms", target="<= 0.05x",
               ok=raw["not_modified_ms"] <= 0.05 * raw["view_ms"],
               note=f"{raw['not_modified_queries']} queries; cached body "
                    f"{raw['cached_ms']:.1f} ms"),
    ]
    return rows, raw


def part_schedule(url: str, *, members: int, repeat: int) -> tuple[list[dict], dict]:
    """Rows of part 3 on one database and the raw figures."""
    port = _free_port()
    env = bench_env(url, MAIL_TRANSPORT="smtp", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port),
                    EMAIL_USE_TLS="0", EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                    MAIL_RATE_PER_MINUTE="0", MAIL_BATCH_SIZE=str(members + 10),
                    # As in production: the request enqueues the fan-out task; a worker runs it.
                    TASK_BACKEND="database")
    env.pop("EMAIL_SSL_CAFILE", None)
    raw = read_part(run(["-m", "bench.schedule", "--members", str(members),
                         "--repeat", str(repeat)], env, timeout=1800))
    db = raw["database"]
    rows = [
        figure(f"schedule for {members} members: request ({db})", raw["request_ms"],
               raw["request_floor_ms"], unit="ms", target="< 300 ms",
               ok=raw["request_ms"] < 300,
               note=f"fan-out task enqueued; it wrote {raw['queued']} outbox rows, "
                    f"{raw['message_chars']:,} chars each"),
        figure(f"worker: {members} invitations to SMTP ({db})", raw["worker_ms"],
               raw["worker_floor_ms"], unit="ms", target="report", ok=None,
               note=f"fan-out {raw['fan_out_ms']:.0f} ms + sent {raw['sent_by_worker']}; "
                    "sweep (one connection) "
                    + ("skipped" if raw["sweep_ms"] is None else f"{raw['sweep_ms']:.0f} ms")),
    ]
    return rows, raw


def part_load(url: str, *, connections: int, seconds: int) -> tuple[list[dict], dict]:
    """Rows of part 4 and the raw figures."""
    from bench.load import run_load

    raw = run_load(url, connections=connections, seconds=seconds)
    pages, bare = raw["pages"], raw["bare"]
    errors = f"errors {pages['errors']}/{bare['errors']}"
    return [
        figure("load: requests/s (pages vs bare view)", pages["rps"], bare["rps"],
               unit="req/s", target=">= 0.4x", ok=pages["rps"] >= 0.4 * bare["rps"],
               note=f"{connections} clients, {seconds} s; {errors}"),
        figure("load: p50 latency", pages["p50_ms"], bare["p50_ms"], unit="ms",
               target="report", ok=None),
        figure("load: p95 latency", pages["p95_ms"], bare["p95_ms"], unit="ms",
               target="<= 3x", ok=pages["p95_ms"] <= 3 * bare["p95_ms"]),
        figure("load: p99 latency", pages["p99_ms"], bare["p99_ms"], unit="ms",
               target="report", ok=None),
    ], raw


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{value:,}"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.4f}x" if ratio < 0.01 else f"{ratio:.2f}x"


def print_table(rows: list[dict]) -> None:
    """The table: figure, ours, floor, ratio, target, verdict, note."""
    headers = ("figure", "SIG Hub", "floor", "ratio", "unit", "target", "result", "note")
    lines = [(r["name"], _fmt(r["ours"]), _fmt(r["floor"]),
              _ratio(r["ratio"]), r["unit"], r["target"],
              {True: "PASS", False: "FAIL", None: "-"}[r["pass"]], r["note"]) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *lines, strict=True)]
    for line in (headers, tuple("-" * w for w in widths), *lines):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    """Run the parts chosen; print the table; write results.json; 1 if a target was missed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small scales, 300 members, 10 s of load: a few minutes")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the bench databases of an earlier run if they hold demo data")
    parser.add_argument("--only", default="pages,feed,schedule,load",
                        help="comma-separated parts (pages, feed, schedule, load)")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    small, large = (0.3, 1.0) if args.quick else (1.0, 10.0)
    members = 300 if args.quick else 1000
    connections, seconds = (50, 10) if args.quick else (200, 60)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    DATA.mkdir(parents=True, exist_ok=True)
    has_pg = postgres_available()
    main_kind = "postgresql" if has_pg else "sqlite"
    if not has_pg:
        print("PostgreSQL is not reachable: SQLite only, and no load test.")

    print("Preparing databases (demo data)...", flush=True)
    urls = {}
    if parts & {"pages", "schedule"}:
        urls["small"] = _database(main_kind, small, reuse=args.reuse, timings=timings)
    if parts & {"pages", "feed", "load"}:
        urls["large"] = _database(main_kind, large, reuse=args.reuse, timings=timings)
    if "schedule" in parts and has_pg:
        urls["sqlite"] = _database("sqlite", small, reuse=args.reuse, timings=timings)
    run(["manage.py", "collectstatic", "--no-input", "-v", "0"],
        bench_env(next(iter(urls.values()))))

    rows: list[dict] = []
    raw: dict = {}
    if "pages" in parts:
        print("Part 1: queries per page...", flush=True)
        rows += part_pages(urls["small"], urls["large"], small, large)
    if "feed" in parts:
        print("Part 2: personal feed of 1,000 meetings...", flush=True)
        feed_rows, raw["feed"] = part_feed(urls["large"], meetings=1000)
        rows += feed_rows
    if "schedule" in parts:
        for name in ("sqlite", "small") if has_pg else ("small",):
            kind = "sqlite" if name == "sqlite" else main_kind
            print(f"Part 3: scheduling for {members} members ({kind})...", flush=True)
            schedule_rows, raw[f"schedule_{name}"] = part_schedule(
                urls[name], members=members, repeat=1 if args.quick else 3)
            rows += schedule_rows
    if "load" in parts and has_pg:
        print(f"Part 4: load, {connections} clients for {seconds} s, twice...", flush=True)
        load_rows, raw["load"] = part_load(urls["large"], connections=connections,
                                           seconds=seconds)
        rows += load_rows

    elapsed = time.perf_counter() - started
    print()
    print_table(rows)
    failed = [r["name"] for r in rows if r["pass"] is False]
    print(f"\n{len(rows)} figures, {len(failed)} missed their target; "
          f"{elapsed:.0f} s in all ({', '.join(f'{k} {v}' for k, v in timings.items())}).")
    result = {"quick": args.quick, "scales": [small, large], "seconds": round(elapsed, 1),
              "machine": {"cpus": __import__("os").cpu_count(), "python": sys.version.split()[0]},
              "timings": timings, "figures": rows, "raw": raw}
    (DATA / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"Written to {DATA / 'results.json'}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
