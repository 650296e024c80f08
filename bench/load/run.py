"""Twenty users at once (issue 22): the app served by waitress on PostgreSQL, with the worker running,
driven by locust (bench/load/locustfile.py), then the database checked for double bookings.

    python -m bench.load.run                         # 20 users for 5 minutes (a quiet machine)
    python -m bench.load.run --users 20 --seconds 60 # a quick check

Without DATABASE_URL it starts a throw-away PostgreSQL server (as the tests do, tests/pg.py) and makes
a database; with it, that database must be empty (it is migrated and given the demo data). Everything
listens on 127.0.0.1 only; mail goes to a local sink. Prints the requests, the 5xx count, p50/p95 per
page and the double bookings; exits 1 if there was a 5xx or a double booking.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SECRET = "load-benchmark-secret-key-0123456789abcdef"  # noqa: S105 - a throw-away local server

# Two offered-or-accepted offers of one volunteer whose times overlap (PostgreSQL's exclusion constraint
# refuses them; counted anyway), and requests with more active or accepted offers than places.
OVERLAPS = """
SELECT count(*) FROM offers a JOIN offers b
  ON a.volunteer_id = b.volunteer_id AND a.id < b.id
 AND a.status IN ('offered', 'accepted') AND b.status IN ('offered', 'accepted')
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""
OVERFILLED = """
SELECT count(*) FROM (
  SELECT r.id FROM support_requests r JOIN offers o ON o.request_id = r.id
   WHERE o.status IN ('offered', 'accepted')
   GROUP BY r.id, r.people_needed HAVING count(*) > r.people_needed) AS x
"""
OVERACCEPTED = OVERFILLED.replace("('offered', 'accepted')", "('accepted')")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listened on 127.0.0.1:{port}")


class _Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return "250 OK"


def _accounts(url: str) -> dict:
    """Demo accounts for each kind of locust user: volunteers with an offer waiting, the sergeants, the
    coordinator and the vetting officers (who have the demo authenticator)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        volunteers = [
            {"email": email, "offer_id": offer_id}
            for email, offer_id in conn.execute(
                text(
                    "SELECT u.email, min(o.id) FROM offers o JOIN volunteers v ON v.id = o.volunteer_id "
                    "JOIN users u ON u.id = v.user_id WHERE o.status = 'offered' GROUP BY u.email ORDER BY u.email"
                )
            )
        ]
        staff = {
            role: [{"email": email} for (email,) in conn.execute(text(sql))]
            for role, sql in {
                "sergeants": "SELECT email FROM users WHERE role = 'sergeant' ORDER BY email",
                "coordinators": "SELECT email FROM users WHERE email = 'coordinator@demo.example'",
                "vetting_officers": "SELECT email FROM users WHERE email LIKE 'vetting.officer%@demo.example'",
            }.items()
        }
    engine.dispose()
    return {"volunteers": volunteers, **staff}


def _percentiles(stats_csv: Path) -> list[dict]:
    with stats_csv.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=300, help="how long locust runs (default 5 minutes)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--scale", type=int, default=2000, help="demo volunteers")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="sng-load-"))
    server = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.path.insert(0, str(ROOT))
        from tests.pg import start_postgres

        server = start_postgres()
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE sng_load"))
        admin.dispose()
        url = make_url(server.url).set(database="sng_load").render_as_string(hide_password=False)
    smtp = Controller(_Sink(), hostname="127.0.0.1", port=_free_port())
    smtp.start()
    port = _free_port()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        # Development: plain http on 127.0.0.1 (production's cookies are HTTPS-only); otherwise the same app.
        "FLASK_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "HUEY_SQLITE_PATH": str(work / "queue.sqlite3"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("HUEY_IMMEDIATE", None)
    flask = [sys.executable, "-m", "flask"]
    processes: list[subprocess.Popen] = []
    try:
        print(f"Database: {make_url(url).render_as_string(hide_password=True)}; migrating and loading demo data…")
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(
            [*flask, "demo", "load", "--scale", str(args.scale)], cwd=ROOT, env=env, check=True, capture_output=True
        )
        accounts = _accounts(url)
        (work / "accounts.json").write_text(json.dumps(accounts), encoding="utf-8")
        print(
            f"{len(accounts['volunteers'])} volunteers with an offer, {len(accounts['sergeants'])} sergeants, "
            f"{len(accounts['vetting_officers'])} vetting officers, 1 coordinator"
        )
        log = (work / "server.log").open("w")
        processes.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "waitress-serve"),
                    "--listen",
                    f"127.0.0.1:{port}",
                    f"--threads={args.threads}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        processes.append(subprocess.Popen([*flask, "match", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log))
        _wait_for_port(port)
        print(f"Serving on http://127.0.0.1:{port} (waitress, {args.threads} threads) with the worker; locust…")
        results = work / "results.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "load" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(max(1, args.users // 5)),
                "--run-time",
                f"{args.seconds}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(work / "load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**env, "LOAD_ACCOUNTS": str(work / "accounts.json"), "LOAD_RESULTS": str(results)},
            timeout=args.seconds + 300,
        )
        errors = json.loads(results.read_text(encoding="utf-8"))["server_errors"] if results.exists() else {}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()

    engine = create_engine(url)
    with engine.connect() as conn:
        overlaps = conn.scalar(text(OVERLAPS))
        overfilled = conn.scalar(text(OVERFILLED))
        overaccepted = conn.scalar(text(OVERACCEPTED))
    engine.dispose()
    if server is not None:
        server.stop()

    rows = _percentiles(work / "load_stats.csv")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"\n{args.users} users for {args.seconds} s: {total['Request Count']} requests")
    print(f"{'Page':<42} {'method':>6} {'requests':>9} {'p50 ms':>7} {'p95 ms':>7} {'5xx':>4}")
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        print(
            f"{row['Name']:<42} {row['Type']:>6} {row['Request Count']:>9} {row['50%']:>7} {row['95%']:>7} "
            f"{errors.get(row['Name'], 0):>4}"
        )
    print(
        f"{'All pages':<42} {'':>6} {total['Request Count']:>9} {total['50%']:>7} {total['95%']:>7} "
        f"{sum(errors.values()):>4}"
    )
    print(
        f"5xx responses: {sum(errors.values())}. Double bookings: {overlaps} overlapping active offers of one "
        f"volunteer, {overfilled} requests with more active offers than places, {overaccepted} with more "
        f"accepted offers than places."
    )
    print(f"Logs and locust's CSVs: {work}")
    return 1 if sum(errors.values()) or overlaps or overfilled or overaccepted else 0


if __name__ == "__main__":
    sys.exit(main())
