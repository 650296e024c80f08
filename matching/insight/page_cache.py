"""Dashboard pages worked out once and served again for a few minutes (issue #21).

London's people page sums half a year of every special's hours; twenty coordinators opening it in the same
minutes need that once. A page is kept under a key made of everything that decides its figures — the
dashboard, the London days of the period and the wards counted (a sergeant's own) — so nobody is ever served
a page for an area they may not see, and a page worked out yesterday is not today's (the days differ). It is
kept in the database, so every app server shares it, and the page still says when its figures were worked
out (its freshness line is the one written when it was built).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.charts import Page, page_from_json, page_to_json
from matching.insight.models import InsightPage
from matching.insight.registry import Dashboard
from matching.insight.scope import Scope


def key(dashboard: Dashboard, scope: Scope) -> str:
    wards = "all" if scope.ward_ids is None else ",".join(str(i) for i in sorted(scope.ward_ids))
    asked = f"{dashboard.slug}|{scope.first_day}|{scope.last_day}|{scope.period}|{wards}"
    return hashlib.sha256(asked.encode()).hexdigest()


def page(db: Session, dashboard: Dashboard, scope: Scope, now: dt.datetime, keep_seconds: int) -> Page:
    """The dashboard's page for ``scope``: one worked out in the last ``keep_seconds``, or a new one (kept).

    Two servers working out the same page at once both show theirs; the second to save keeps the first's
    (its figures are as fresh). Pages older than twice the keeping time are cleared as new ones are saved.
    """
    if keep_seconds <= 0:
        return dashboard.build(db, scope, now)
    page_key = key(dashboard, scope)
    kept = db.execute(
        select(InsightPage.page).where(
            InsightPage.key == page_key, InsightPage.built_at >= now - dt.timedelta(seconds=keep_seconds)
        )
    ).scalar_one_or_none()
    if kept is not None:
        return page_from_json(kept)
    built = dashboard.build(db, scope, now)
    db.rollback()  # end the builder's read transaction before writing
    try:
        db.execute(delete(InsightPage).where(InsightPage.key == page_key))
        db.execute(delete(InsightPage).where(InsightPage.built_at < now - dt.timedelta(seconds=2 * keep_seconds)))
        db.add(InsightPage(key=page_key, slug=dashboard.slug, built_at=now, page=page_to_json(built)))
        db.commit()
    except IntegrityError:
        db.rollback()  # another server saved the same page a moment ago
    return built
