"""Twenty users at once (issue 22): the app served by waitress on PostgreSQL, with the worker running,
driven by locust (bench/load/locustfile.py), then the database checked for double bookings.

    python -m bench.load.run                         # 20 users for 5 minutes (a quiet machine)
    python -m bench.load.run --users 20 --seconds 60 # a quick check
    # Issue #21: coordinators and sergeants on the dashboards, force systems on the API, at force scale
    python -m bench.load.run --scenario dashboards --volunteers 50000 --history-days 365 --users 20 --seconds 120

Without DATABASE_URL it starts a throw-away PostgreSQL server (as the tests do, tests/pg.py) and makes
a database; with it, that database must be empty (it is migrated and given the demo data). Everything
listens on 127.0.0.1 only; mail goes to a local sink. Prints the requests, the 5xx count, p50/p95 per
page and the double bookings; exits 1 if there was a 5xx or a double booking. The dashboards scenario
(bench/load/dashboards.py) also prints each page's p95 against its target (a dashboard 300 ms, an API list
200 ms) and exits 1 if one is missed. With ``--reuse`` and DATABASE_URL, a database this runner loaded before
is used as it is (loading 50,000 volunteers and a year takes minutes).
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

from core.demo import DEMO_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILES = {"service": "locustfile.py", "dashboards": "dashboards.py"}
# p95 targets of issue #21, in ms, by the start of a page's name.
TARGETS = {"/dashboards/": 300, "/api/v1/": 200}
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


def _dashboard_accounts(url: str, env: dict, users: int) -> dict:
    """Accounts for the dashboards scenario: a coordinator account per locust user (each signs in with the demo
    authenticator, whose codes are single use per account), the sergeants, and API tokens of every scope
    issued by a coordinator through the token service (as its page would)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE email LIKE 'coordinator.load%@demo.example'"))
        conn.execute(
            text(
                "INSERT INTO users (email, full_name, role, password_hash, created_at, is_disabled) "
                "SELECT 'coordinator.load' || n || '@demo.example', 'Load Coordinator ' || n, role, password_hash, "
                "created_at, false FROM users, (SELECT generate_series(1, :n) AS n) AS s "
                "WHERE email = 'coordinator@demo.example'"
            ),
            {"n": users},
        )
        conn.execute(
            text(
                "INSERT INTO totp_authenticators (user_id, secret, created_at) SELECT id, :secret, now() FROM users "
                "WHERE email LIKE 'coordinator.load%@demo.example'"
            ),
            {"secret": DEMO_TOTP_SECRET},
        )
        coordinators = [
            {"email": email}
            for (email,) in conn.execute(
                text("SELECT email FROM users WHERE email LIKE 'coordinator.load%@demo.example' ORDER BY id")
            )
        ]
        sergeants = [
            {"email": email}
            for (email,) in conn.execute(text("SELECT email FROM users WHERE role = 'sergeant' ORDER BY email"))
        ]
    engine.dispose()
    issued = subprocess.run(
        [sys.executable, "-c", _ISSUE_TOKENS, str(users)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return {"coordinators": coordinators, "sergeants": sergeants, "tokens": issued.stdout.split()}


# One token per locust user, every scope, for 30 days, issued by the demo coordinator through the service.
_ISSUE_TOKENS = """
import datetime as dt, sys
from sqlalchemy import select
from core import create_app
from core.audit.services import key_from_config
from core.auth.models import User
from core.db import get_session
from core.timeutil import london_today
from matching.api.tokens import SCOPES, issue

app = create_app()
with app.app_context():
    session = get_session()
    actor = session.scalar(select(User).where(User.email == "coordinator@demo.example"))
    for n in range(int(sys.argv[1])):
        made = issue(session, actor, name=f"Load benchmark {n + 1}", scopes=list(SCOPES),
                     expires_on=london_today() + dt.timedelta(days=30), key=key_from_config(app.config))
        print(made.secret)
"""


def _percentiles(stats_csv: Path) -> list[dict]:
    with stats_csv.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=300, help="how long locust runs (default 5 minutes)")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    parser.add_argument("--processes", type=int, default=1, help="server processes (more than 1: gunicorn)")
    parser.add_argument("--scale", "--volunteers", type=int, default=2000, help="demo volunteers")
    parser.add_argument("--scenario", choices=sorted(LOCUSTFILES), default="service")
    parser.add_argument(
        "--history-days", type=int, default=None, help="days of demo history (default: 365 for dashboards, else 0)"
    )
    parser.add_argument("--reuse", action="store_true", help="use DATABASE_URL as it is (loaded by an earlier run)")
    args = parser.parse_args(argv)
    if args.history_days is None:
        args.history_days = 365 if args.scenario == "dashboards" else 0
    if args.reuse and not os.environ.get("DATABASE_URL"):
        parser.error("--reuse needs DATABASE_URL")

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
        if not args.reuse:
            print(f"Database: {make_url(url).render_as_string(hide_password=True)}; migrating and loading demo data…")
            subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
            started = time.monotonic()
            loaded = subprocess.run(
                [*flask, "demo", "load", "--scale", str(args.scale), "--history-days", str(args.history_days)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            print(loaded.stdout.strip().splitlines()[-2 if args.history_days else -1])
            print(f"Demo loaded in {time.monotonic() - started:.0f} s (with its fortnight's matching run)")
            # As autovacuum would soon after a bulk load: the planner's statistics for the new rows.
            vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
            with vacuum.connect() as conn:
                conn.execute(text("VACUUM ANALYZE"))
            vacuum.dispose()
        if args.scenario == "dashboards":
            # In service the worker works the dashboards' summaries out every five minutes; the measurement is
            # of pages reading them, not of the first page of a cold database working them out itself.
            refreshed = subprocess.run(
                [*flask, "match", "refresh-dashboards"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )
            print(refreshed.stdout.strip())
            accounts = _dashboard_accounts(url, env, args.users)
            print(
                f"{len(accounts['coordinators'])} coordinator accounts, {len(accounts['sergeants'])} sergeants, "
                f"{len(accounts['tokens'])} API tokens"
            )
        else:
            accounts = _accounts(url)
            print(
                f"{len(accounts['volunteers'])} volunteers with an offer, {len(accounts['sergeants'])} sergeants, "
                f"{len(accounts['vetting_officers'])} vetting officers, 1 coordinator"
            )
        (work / "accounts.json").write_text(json.dumps(accounts), encoding="utf-8")
        log = (work / "server.log").open("w")
        bindir = Path(sys.executable).parent
        # One waitress process by default; --processes N serves with gunicorn's N worker processes (threads each),
        # as production would on a machine with cores to spare: one Python process uses one core at a time.
        server_command = (
            [str(bindir / "waitress-serve"), "--listen", f"127.0.0.1:{port}", f"--threads={args.threads}", "wsgi:app"]
            if args.processes == 1
            else [
                str(bindir / "gunicorn"),
                f"--bind=127.0.0.1:{port}",
                f"--workers={args.processes}",
                f"--threads={args.threads}",
                "--worker-class=gthread",
                "wsgi:app",
            ]
        )
        processes.append(
            subprocess.Popen(
                server_command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        processes.append(subprocess.Popen([*flask, "match", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log))
        _wait_for_port(port)
        served_by = "waitress" if args.processes == 1 else f"gunicorn, {args.processes} processes"
        print(f"Serving on http://127.0.0.1:{port} ({served_by}, {args.threads} threads) with the worker; locust…")
        results = work / "results.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "load" / LOCUSTFILES[args.scenario]),
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
        counted = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
        errors, limited = counted.get("server_errors", {}), counted.get("rate_limited", {})
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
    print(f"{'Page':<42} {'method':>6} {'requests':>9} {'p50 ms':>7} {'p95 ms':>7} {'5xx':>4}  p95 / target")
    missed = []
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        target = next((ms for start, ms in TARGETS.items() if row["Name"].startswith(start)), None)
        ratio = ""
        if target and args.scenario == "dashboards":
            share = float(row["95%"]) / target
            ratio = f"  {share:.2f} of {target} ms" + (" MISSED" if share > 1 else "")
            if share > 1:
                missed.append(row["Name"])
        print(
            f"{row['Name']:<42} {row['Type']:>6} {row['Request Count']:>9} {row['50%']:>7} {row['95%']:>7} "
            f"{errors.get(row['Name'], 0):>4}{ratio}"
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
    if limited:
        print(f"429 (rate limited) responses: {sum(limited.values())} ({limited}): the limit, not speed, shaped these")
    if args.scenario == "dashboards":
        print(f"Targets missed: {', '.join(missed) or 'none'}")
    print(f"Logs and locust's CSVs: {work}")
    return 1 if sum(errors.values()) or overlaps or overfilled or overaccepted or missed else 0


if __name__ == "__main__":
    sys.exit(main())
