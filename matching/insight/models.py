"""The dashboards' summary tables (issue #21): the coverage and "why unfilled" figures, worked out ahead.

Read live, a year of London's requests joined to their offers, deployments and matching runs cost the coverage
and unfilled pages half a second to a second each on PostgreSQL; ``matching.insight.summaries.refresh`` works
them out every five minutes (the Huey task ``matching.tasks.refresh_dashboards``) into these tables, which the
pages only sum. Everything here is derived and replaced whole at each refresh, so it holds no foreign keys: a
request or ward deleted meanwhile must not wait for the next refresh, and the next refresh forgets it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

SKILLS_MAX = 400


class CoverageDay(Base):
    """One ward, London day and priority's places, as ``matching.insight.coverage`` defines each figure.

    Unfilled and still open are divided at the refresh's moment (``InsightRefresh.refreshed_at``): a place of a
    request whose time came after it is still open here until the next refresh.
    """

    __tablename__ = "coverage_days"
    __table_args__ = (Index("ix_coverage_days_day_ward_id", "day", "ward_id"),)

    ward_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    priority: Mapped[str] = mapped_column(String(20), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer)
    served: Mapped[int] = mapped_column(Integer)
    unfilled: Mapped[int] = mapped_column(Integer)
    still_open: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)


class UnfilledPlaceRow(Base):
    """One request whose time had come with places unfilled, with everything the unfilled page groups by."""

    __tablename__ = "unfilled_places"
    __table_args__ = (Index("ix_unfilled_places_day_ward_id", "day", "ward_id"),)

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ward_id: Mapped[int] = mapped_column(Integer)
    borough_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date)  # the London day its window starts
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # start + the task's length
    priority: Mapped[str] = mapped_column(String(20))
    task_type_code: Mapped[str] = mapped_column(String(40))
    stop_rule: Mapped[str] = mapped_column(String(20))  # matching.insight.rules.StopRule
    time_band: Mapped[str] = mapped_column(String(20))  # matching.insight.rules.TimeBand
    # Its skills in words joined by " and " ("Cyber-crime victim support and Polish"); "" for none.
    skills: Mapped[str] = mapped_column(String(SKILLS_MAX))
    places: Mapped[int] = mapped_column(Integer)


class UnfilledSkill(Base):
    """Each skill an unfilled request asked for, in words: the by-skill table counts a request under each."""

    __tablename__ = "unfilled_skills"

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    skill: Mapped[str] = mapped_column(String(SKILLS_MAX), primary_key=True)


class InsightRefresh(Base):
    """When each summary was last worked out, over which days, and in how long. Written under the refresh lock."""

    __tablename__ = "insight_refreshes"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The London days the summary covers, both inclusive; a period outside them is read live.
    covers_from: Mapped[dt.date] = mapped_column(Date)
    covers_to: Mapped[dt.date] = mapped_column(Date)
    seconds: Mapped[float] = mapped_column(Float)


class InsightPage(Base):
    """A dashboard page as worked out for one period and area, served again for ``INSIGHT_PAGE_SECONDS``.

    Twenty coordinators opening London's people page in the same minutes need its figures once, not twenty
    times; in the database, so every app server shares it. ``page`` is the page as JSON
    (``core.charts.page_to_json``), never pickled. Derived and short-lived: no foreign keys.
    """

    __tablename__ = "insight_pages"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # page_cache.key: a hash of what was asked
    slug: Mapped[str] = mapped_column(String(40))
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    page: Mapped[str] = mapped_column(Text)
