"""Command-line tasks: `flask db …`, `flask geo …`, `flask demo …`, `flask accounts …`."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core import migrate
from core.db import get_session
from core.seams import seams
from core.wording import agree, plural


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(geo_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(audit_cli)


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database migrated to {revision}.")


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(current_app.config["DATABASE_URL"])
    click.echo("Models and migrations agree.")


geo_cli = AppGroup("geo", help="Geography: BCUs, boroughs and wards.")


@geo_cli.command("import-wards")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def geo_import_wards(path: Path) -> None:
    """Load wards from a CSV file: ward code, ward name, borough name, latitude, longitude.

    All or nothing: if any row is bad, nothing is imported and every bad row is listed.
    """
    from core.geography.services import import_wards_csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("The file is not UTF-8 text; save it as CSV UTF-8 and try again.") from None
    report = import_wards_csv(get_session(), text)
    if not report.ok:
        for error in report.errors:
            click.echo(error, err=True)
        n = len(report.errors)
        raise click.ClickException(f"Nothing imported: {plural(n, 'row')} {agree(n, 'needs', 'need')} fixing.")
    click.echo(f"Imported wards: {report.created} new, {report.updated} updated.")


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.option(
    "--scale", default=2000, show_default=True, type=click.IntRange(10, 200_000), help="How many volunteers to create."
)
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has accounts.")
@click.option(
    "--history-days",
    default=0,
    show_default=True,
    type=click.IntRange(0, 3 * 365),
    help="Days of past requests, offers, deployments and vetting decisions (the dashboards' benchmark: 365).",
)
def demo_load(scale: int, seed: int, if_empty: bool, history_days: int) -> None:
    """Load deterministic, realistic demo data (refused in production)."""
    from core.demo import DemoRefused, load_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demo data is never loaded into a production database.")
    loaders = list(seams().demo_loaders)
    history: list[str] = []
    if history_days:
        # Last, over everything the other loaders made (it dates their volunteers' joining and reviews).
        loaders.append(
            lambda session, rng, today: history.append(seams().demo_history(session, rng, today, history_days))
        )
    try:
        summary = load_demo(
            get_session(),
            scale=scale,
            seed=seed,
            if_empty=if_empty,
            feature_loaders=loaders,
        )
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary)
    for line in history:
        click.echo(line)
    if not isinstance(summary, str):  # loaded now (not skipped by --if-empty): let features act on it
        for step in seams().after_demo:
            click.echo(step(current_app))


accounts_cli = AppGroup("accounts", help="Accounts.")


@accounts_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice(["coordinator", "vetting_officer", "sergeant"]), required=True)
def accounts_create(email: str, full_name: str, role: str) -> None:
    """Create a staff account (the first coordinator of a new deployment, say). Prompts for the password:
    the person running this is the one who will use it. Everyone else is invited from the accounts page."""
    from core.auth.models import Role
    from core.auth.services import AccountError, create_account

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        user = create_account(get_session(), email=email, full_name=full_name, role=Role(role), password=password)
    except AccountError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {role} account {user.id}.")


@accounts_cli.command("send-invitations")
@click.option("--limit", type=click.IntRange(1), default=None, help="Send at most this many in this run.")
def accounts_send_invitations(limit: int | None) -> None:
    """Email the invitations queued by a CSV import (cron every few minutes, if no worker runs).

    Exit 1 if the mail server refused one: it stays queued for the next run.
    """
    from core.auth.credentials import Settings, send_queued_invitations
    from core.mail import send_mail

    sent, failed = send_queued_invitations(
        get_session(),
        lambda email: send_mail(current_app.config, email.to, email.subject, email.body),
        Settings.from_config(current_app.config),
        limit=limit,
    )
    click.echo(f"{sent} invitation{'' if sent == 1 else 's'} sent.")
    if failed:
        raise click.ClickException("The mail server refused an invitation; the rest stay queued for the next run.")


@accounts_cli.command("demo-code")
@click.argument("email")
def accounts_demo_code(email: str) -> None:
    """Show the current security code of a DEMO account (its authenticator uses the published demo key).

    Refused in production, and for any account whose authenticator is not the demo one.
    """
    import datetime as dt

    from sqlalchemy import select

    from core.auth import totp
    from core.auth.models import TotpAuthenticator, User
    from core.auth.services import normalise_email
    from core.demo import DEMO_TOTP_SECRET

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demo codes are never shown in production.")
    secret = get_session().scalar(
        select(TotpAuthenticator.secret)
        .join(User, User.id == TotpAuthenticator.user_id)
        .where(User.email == normalise_email(email))
    )
    if secret != DEMO_TOTP_SECRET:
        raise click.ClickException("Only demo accounts set up with the published demo key have codes shown here.")
    now = dt.datetime.now(dt.UTC)
    left = totp.STEP_SECONDS - int(now.timestamp()) % totp.STEP_SECONDS
    click.echo(f"{totp.current_code(DEMO_TOTP_SECRET, now)}  (changes in {left} s; each code works once)")


audit_cli = AppGroup("audit", help="The vetting audit log.")


@audit_cli.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the audit log's HMAC chain from the first entry; exit 1 at the first entry that breaks it."""
    from core.audit.services import key_from_config, verify

    result = verify(get_session(), key_from_config(current_app.config))
    if result.ok:
        click.echo(f"Audit log intact: {result.checked} entries checked.")
        return
    click.echo(f"Audit log broken at entry seq={result.bad_seq} (id={result.bad_id}): {result.reason}", err=True)
    ctx.exit(1)
