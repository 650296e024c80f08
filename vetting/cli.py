"""`flask vetting sweep`: the daily run that keeps clearances honest. Meant for cron."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from core.audit.services import key_from_config
from core.db import get_session, utcnow
from core.seams import seams
from core.timeutil import london_to_utc, london_today
from vetting.policy import current_policy
from vetting.sweep import mail_sender, run_sweep

vetting_cli = AppGroup("vetting", help="Vetting: the daily sweep.")


@vetting_cli.command("sweep")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as if today were this date (London); default: today.",
)
def sweep(today: dt.datetime | None) -> None:
    """Lapse expired clearances (telling the holders), open renewal reviews 90 days ahead and the annual
    integrity reviews, send the 90/30/7-day reminders and any outcome email SMTP refused before;
    then run what other features hang on the sweep (matching withdraws offers people are no longer
    eligible for).

    Idempotent: safe to run more than once a day, and to re-run after a failure.
    """
    session = get_session()
    day = today.date() if today else london_today()
    report = run_sweep(
        session,
        day,
        current_policy(session, current_app.config),
        mail_sender(current_app.config),
        key_from_config(current_app.config),
        current_app.config.get("PUBLIC_URL", ""),
        service=current_app.config["SERVICE_NAME"],
    )
    click.echo(str(report))
    # Now, or the start of that London day when --today names another day.
    now = utcnow() if day == london_today() else london_to_utc(day, dt.time(0, 0))
    # Hooks registered by create_app (vetting must not import the features that use its decisions):
    # each takes (session, now) and returns a line for the log, or None.
    for hook in seams().after_vetting_sweep:
        line = hook(session, now)
        if line:
            click.echo(line)
    if report.failed:
        raise SystemExit(1)
