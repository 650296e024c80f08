"""The monthly BCU report's page: a month and a BCU chosen, each BCU's headline figures on a printed page.

Thin: ``report.read_form`` reads the choice, ``report.build_report`` composes the dashboards' sections. A month
or BCU that is not offered is a message by the field and no report: a printed report of another month or area
than the one asked for would mislead whoever reads it.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user

from core.db import get_session, utcnow
from core.permissions import allow
from matching.insight.report import build_report, read_form
from matching.insight.views import VIEWERS, bp


@bp.route("/report")
@allow(*VIEWERS)
def report():
    db = get_session()
    now = utcnow()
    form, month, bcu_ids = read_form(db, current_user, request.args, now)
    # Built once the form is sent, not on arriving from the index: every BCU at once is a dashboard build per
    # BCU, a few seconds at force scale, which only someone about to print should wait for.
    chosen = "month" in request.args or "bcu" in request.args
    keep = current_app.config["INSIGHT_PAGE_SECONDS"]
    pages = build_report(db, current_user, month, bcu_ids, now, keep) if chosen and month and not form.errors else []
    return render_template("insight/report.html", form=form, month=month, pages=pages, chosen=chosen)
