"""The dashboards' pages: the index, each dashboard, and each table of a dashboard as CSV.

Thin: ``scope.resolve`` reads the filter, the dashboard's builder reads the rows. The filter is a GET form,
so a dashboard's address can be bookmarked and shared; its errors show in the error summary and the page
still shows figures for the default of the field in error.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from core.auth.models import Role
from core.db import get_session, utcnow
from core.permissions import allow
from core.timeutil import london_today

# Each dashboard's module registers it when imported.
from matching.insight import coverage, page_cache, people, skills, unfilled, vetting_figures  # noqa: F401
from matching.insight.registry import DASHBOARDS, in_order
from matching.insight.scope import resolve

bp = Blueprint("insight", __name__, url_prefix="/dashboards")

VIEWERS = (Role.COORDINATOR, Role.SERGEANT)


def _dashboard(slug: str):
    dashboard = DASHBOARDS.get(slug)
    if dashboard is None:
        abort(404)
    if current_user.role not in dashboard.roles:
        abort(403)
    return dashboard


@bp.route("/")
@allow(*VIEWERS)
def index():
    dashboards = [d for d in in_order() if current_user.role in d.roles]
    return render_template("insight/index.html", dashboards=dashboards)


@bp.route("/<slug>")
@allow(*VIEWERS)
def show(slug: str):
    dashboard = _dashboard(slug)
    db = get_session()
    now = utcnow()
    form, scope = resolve(db, current_user, request.args, now)
    page = page_cache.page(db, dashboard, scope, now, current_app.config["INSIGHT_PAGE_SECONDS"])
    return render_template("insight/dashboard.html", dashboard=dashboard, form=form, scope=scope, page=page)


@bp.route("/<slug>/<table_id>.csv")
@allow(*VIEWERS)
def table_csv(slug: str, table_id: str):
    dashboard = _dashboard(slug)
    db = get_session()
    now = utcnow()
    _form, scope = resolve(db, current_user, request.args, now)
    table = page_cache.page(db, dashboard, scope, now, current_app.config["INSIGHT_PAGE_SECONDS"]).table(table_id)
    if table is None:
        abort(404)
    filename = f"{slug}-{table_id}-{london_today(now).isoformat()}.csv"
    return Response(
        table.csv_text(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# The monthly BCU report's page registers on this blueprint (imported last: it needs ``bp``).
from matching.insight import report_views  # noqa: E402, F401
