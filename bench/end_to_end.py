"""End to end from the database: the coordinator's "match all London for a week" on PostgreSQL.

    python -m bench.end_to_end --volunteers 50000 --requests 20000 [--repeat 3] [--database-url URL]

Without ``--database-url`` it starts a throwaway PostgreSQL server (Debian's binaries, as the tests
do). It loads the demo (``flask demo load --scale N``), adds a city's week of requests over every ward
(``flask match demo-week``), then times ``flask match run --all`` for that week — the same command
cron runs — from start to the saved plan, in a fresh process each time, with that process's peak
memory. Between repeats the run's offers are removed and the requests reopened, so each repeat does
the same work. Prints one row per repeat and the medians; the run's own figures (places offered,
optimal or gap, solver time) come from its row in ``match_runs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def _flask(env: dict, *args: str) -> tuple[float, int, str]:
    """Run `flask ARGS` in a fresh process: (wall seconds, peak RSS in MiB, output)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss // 1024, output


def _panels(engine) -> None:
    """Ward panels as bench/generator.py gives them (issue #23, local first): four volunteers in five on their
    home ward's panel, and one ward in fifty ring-fenced, each chosen by id so every load gives the same."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ward_panel_memberships (ward_id, volunteer_id, state, created_at) "
                "SELECT home_ward_id, id, 'member', now() FROM volunteers "
                "WHERE home_ward_id IS NOT NULL AND id % 5 <> 0 "
                "ON CONFLICT (ward_id, volunteer_id) DO NOTHING"
            )
        )
        connection.execute(text("UPDATE wards SET ring_fenced = (id % 50 = 0)"))
        members = connection.execute(text("SELECT count(*) FROM ward_panel_memberships WHERE state = 'member'"))
        fenced = connection.execute(text("SELECT count(*) FROM wards WHERE ring_fenced"))
        print(f"panels: {members.scalar()} members, {fenced.scalar()} wards ring-fenced")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway server)")
    args = parser.parse_args(argv)

    server = None
    url = args.database_url
    if url is None:
        sys.path.insert(0, str(ROOT))
        from tests.pg import start_postgres

        server = start_postgres()
        engine = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS sng_bench"))
            connection.execute(text("CREATE DATABASE sng_bench"))
        engine.dispose()
        url = server.url.rsplit("/", 1)[0] + "/sng_bench"
    # The offer emails are queued for the worker (not run here): they are not part of "the saved plan".
    queue = Path(tempfile.mkdtemp()) / "huey.sqlite3"
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "FLASK_ENV": "development",
        "DATABASE_URL": url,
        "HUEY_SQLITE_PATH": str(queue),
    }
    env.pop("HUEY_IMMEDIATE", None)
    try:
        today = dt.date.today()
        monday = today + dt.timedelta(days=7 - today.weekday())
        sunday = monday + dt.timedelta(days=6)
        _flask(env, "db", "upgrade")
        engine = create_engine(url)
        with engine.connect() as connection:
            loaded = connection.execute(text("SELECT count(*) FROM volunteers")).scalar()
        if loaded:  # a database given with --database-url, loaded by an earlier run: reuse it
            print(f"reusing the {loaded} volunteers already in the database")
        else:
            seconds, _, _ = _flask(env, "demo", "load", "--scale", str(args.volunteers))
            print(f"demo load --scale {args.volunteers}: {seconds:.1f} s")
            seconds, _, _ = _flask(
                env, "match", "demo-week", "--requests", str(args.requests), "--from", monday.isoformat()
            )
            print(f"demo-week --requests {args.requests} from {monday}: {seconds:.1f} s")
            _panels(engine)
        rows = []
        print("repeat  wall_s  peak_MiB  requests  places_offered/needed  solve_s  run_total_s  plan")
        for repeat in range(args.repeat):
            with engine.begin() as connection:  # the same work each time: this week's offers undone
                connection.execute(
                    text("DELETE FROM offers WHERE starts_at >= :a AND starts_at < :b"),
                    {"a": monday, "b": sunday + dt.timedelta(days=1)},
                )
                connection.execute(
                    text(
                        "UPDATE support_requests SET status = 'open'"
                        " WHERE status IN ('matched', 'part_filled', 'filled')"
                    )
                )
            wall, peak, _ = _flask(
                env, "match", "run", "--all", "--from", monday.isoformat(), "--to", sunday.isoformat()
            )
            with engine.connect() as connection:
                run = connection.execute(
                    text(
                        "SELECT requests_count, places_offered, places_needed, solve_seconds, total_seconds, optimal, "
                        "coverage, coverage_bound, score, score_bound, step_seconds FROM match_runs "
                        "ORDER BY id DESC LIMIT 1"
                    )
                ).one()
            gap = (
                "optimal"
                if run.optimal
                else (
                    f"coverage gap {100 * (run.coverage_bound - run.coverage) / max(1, run.coverage_bound):.2f}%, "
                    f"score gap {100 * abs(run.score_bound - run.score) / max(1e-9, abs(run.score_bound)):.2f}%"
                )
            )
            rows.append((wall, peak))
            print(
                f"{repeat + 1:>6}  {wall:6.1f}  {peak:8d}  {run.requests_count:8d}  "
                f"{run.places_offered:>10}/{run.places_needed:<10}  {run.solve_seconds:7.1f}  "
                f"{run.total_seconds:11.1f}  {gap}",
                flush=True,
            )
            print(f"        steps (s): {run.step_seconds}", flush=True)
        engine.dispose()
        print(f"median  {statistics.median(r[0] for r in rows):6.1f}  {int(statistics.median(r[1] for r in rows)):8d}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
