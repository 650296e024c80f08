"""`flask match …`: matching runs for cron, closing unanswered offers, and the background worker."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.db import get_session, session_factory, utcnow
from core.geography.models import Bcu, Ward
from core.timeutil import london_today
from matching.models import RunScope, RunStatus
from matching.runs.services import (
    RunError,
    by_priority,
    expire_and_rematch,
    gap_text,
    give_up_stale,
    queue_run,
    settings_from_config,
    stale_after_from_config,
    steps_text,
)
from matching.solver.instance import instance_to_dict

match_cli = AppGroup("match", help="Matching: runs, offer expiry, the background worker.")


@match_cli.command("run")
@click.option("--ward", "ward_code", help="Match one ward (its ONS code, e.g. E05000001).")
@click.option("--bcu", "bcu_code", help="Match one BCU (its code, e.g. CN).")
@click.option("--all", "all_london", is_flag=True, help="Match all London.")
@click.option(
    "--from",
    "first",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (London); default: today.",
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day (London); default: six days after the first (a week).",
)
@click.option("--background", is_flag=True, help="Queue the run for the worker instead of running it here.")
@click.option(
    "--write-instance",
    "instance_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also save the solver's instance as JSON (docs/matching.md), for a benchmark or a bug report; "
    "a run over several weeks writes FILE, FILE-week2, …",
)
def run(
    ward_code: str | None,
    bcu_code: str | None,
    all_london: bool,
    first: dt.datetime | None,
    last: dt.datetime | None,
    background: bool,
    instance_file: str | None,
) -> None:
    """Match the open places of a ward, a BCU or all London over a date range, and send the offers."""
    from matching.tasks import run_match, run_now

    if sum(bool(x) for x in (ward_code, bcu_code, all_london)) != 1:
        raise click.UsageError("Say what to match: exactly one of --ward CODE, --bcu CODE or --all")
    session = get_session()
    today = london_today()
    first_day = first.date() if first else today
    last_day = last.date() if last else first_day + dt.timedelta(days=6)
    ward_id = bcu_id = None
    if ward_code:
        ward_id = session.scalar(select(Ward.id).where(Ward.code == ward_code.strip().upper()))
        if ward_id is None:
            raise click.BadParameter(f"no ward has the code {ward_code!r}", param_hint="--ward")
    if bcu_code:
        bcu_id = session.scalar(select(Bcu.id).where(Bcu.code == bcu_code.strip().upper()))
        if bcu_id is None:
            raise click.BadParameter(f"no BCU has the code {bcu_code!r}", param_hint="--bcu")
    scope = RunScope.WARD if ward_id else RunScope.BCU if bcu_id else RunScope.LONDON
    try:
        queued = queue_run(
            session,
            scope=scope,
            first_day=first_day,
            last_day=last_day,
            today=today,
            trigger="cli",
            ward_id=ward_id,
            bcu_id=bcu_id,
        )
    except RunError as exc:
        raise click.UsageError(exc.message) from None
    if background:
        if instance_file:
            raise click.UsageError("--write-instance needs the run done here, not --background")
        run_match(queued.id)
        click.echo(f"Run {queued.id} queued for the worker.")
        return
    done = run_now(current_app, queued.id, keep_instance=_instance_writer(instance_file) if instance_file else None)
    if done.status is not RunStatus.SUCCEEDED:
        click.echo(f"Run {done.id} failed: {done.error}", err=True)
        sys.exit(1)
    click.echo(
        f"Run {done.id}: {done.requests_count} requests, {done.places_offered} of {done.places_needed} "
        f"places offered; {gap_text(done)}; {done.total_seconds:.2f} s (solver {done.solve_seconds:.2f} s)"
    )
    for name, filled, needed in by_priority(done):
        click.echo(f"  {name}: {filled} of {needed}")
    if done.step_seconds:
        click.echo(f"  Time: {steps_text(done)}")


def _instance_writer(path: str):
    def write(week: int, instance) -> None:
        target = Path(path) if week == 1 else Path(path).with_stem(f"{Path(path).stem}-week{week}")
        target.write_text(json.dumps(instance_to_dict(instance)), encoding="utf-8")

    return write


@match_cli.command("demo-week")
@click.option("--requests", "count", default=20_000, show_default=True, type=click.IntRange(1, 200_000))
@click.option(
    "--from",
    "first",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day of the week (London); default: tomorrow.",
)
def demo_week(count: int, first: dt.datetime | None) -> None:
    """Add a city's week of demo requests over every ward (for the end-to-end benchmark; refused in production)."""
    from matching.demo import load_city_week

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demo data is never loaded into a production database.")
    first_day = first.date() if first else london_today() + dt.timedelta(days=1)
    made = load_city_week(get_session(), count, first_day)
    click.echo(f"{made} demo requests added for the week from {first_day:%Y-%m-%d}.")


@match_cli.command("expire-offers")
def expire_offers() -> None:
    """Close offers nobody answered in time and offer those places to someone else, and give up runs
    whose worker stopped mid-run (the worker does this every five minutes; this is for cron without one)."""
    from matching.tasks import offer_sender

    make_session = session_factory()
    with make_session() as session:
        stopped = give_up_stale(session, utcnow(), stale_after_from_config(current_app.config))
    expired, offered = expire_and_rematch(
        make_session, settings_from_config(current_app.config), offer_sender(current_app)
    )
    click.echo(f"{expired} requests had an unanswered offer; {offered} places offered again.")
    if stopped:
        click.echo(f"{stopped} matching run(s) had stopped without finishing: marked failed.")


@match_cli.command("refresh-dashboards")
def refresh_dashboards() -> None:
    """Work out the coverage and "why unfilled" dashboards' summaries now (the worker does it every five
    minutes; this is for cron without one, and for a benchmark that should not wait for the first)."""
    from matching.insight.summaries import refresh

    with session_factory()() as session:
        done = refresh(session, utcnow())
    click.echo(f"Dashboards' summaries worked out in {done.seconds:.1f} s ({done.covers_from} to {done.covers_to}).")


@match_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="Worker threads (a run uses up to two cores).")
def worker(workers: int) -> None:
    """Run the background worker (Huey consumer): queued matching runs and the five-minute offer expiry."""
    from matching.tasks import huey

    huey.create_consumer(workers=workers, periodic=True).run()
