"""The dashboards: each registers a builder that reads the rows for a scope and returns the page to show.

A builder is ``build(db, scope, now) -> core.charts.Page``. The same builder serves the page and each of its
tables' CSV downloads, so a download always has the rows the table shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.auth.models import Role
from core.charts import Page
from matching.insight.scope import Scope

Builder = Callable[[Session, Scope, dt.datetime], Page]


@dataclass(frozen=True)
class Dashboard:
    slug: str  # its address: /dashboards/<slug>
    title: str
    description: str  # one sentence on the dashboards' index
    build: Builder
    roles: frozenset[Role] = frozenset({Role.COORDINATOR, Role.SERGEANT})


DASHBOARDS: dict[str, Dashboard] = {}
# The order the index lists them in: where a programme is short first, then why, then the people.
ORDER = ("coverage", "unfilled", "skills", "vetting", "people")


def register(dashboard: Dashboard) -> Dashboard:
    if dashboard.slug in DASHBOARDS:
        raise ValueError(f"dashboard {dashboard.slug!r} registered twice")
    DASHBOARDS[dashboard.slug] = dashboard
    return dashboard


def in_order() -> list[Dashboard]:
    rank = {slug: index for index, slug in enumerate(ORDER)}
    return sorted(DASHBOARDS.values(), key=lambda d: (rank.get(d.slug, len(ORDER)), d.slug))
