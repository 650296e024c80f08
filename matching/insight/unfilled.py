"""The "why places went unfilled" dashboard: the funnels of every unfilled request added up.

An unfilled request is one whose window started in the period, in the area, is not cancelled, and has fewer
places booked than it needed when its time came (the coverage dashboard's Unfilled). Each is read in the
latest matching run that covered it (its ``RunRequest``), the stopping rule worked out by
``rules.stopping_rule``, and its unfilled places added up by that rule, task type, skill, ward or borough and
time of day; those stopped at the skills or availability rules become the recruitment targets.

``summaries.refresh`` works out each unfilled request's rule, time band and skills every five minutes (the
stored funnel is JSON text, which neither database reads in the same way) into ``unfilled_places`` and
``unfilled_skills``; this page only groups those rows in SQL, and reads single requests' slots only for the
recruitment targets that can make its top ten.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from core.charts import Page, Section, Table, chart_from_table
from core.geography.models import Borough, Ward
from core.wording import plural
from matching.insight import summaries
from matching.insight.models import UnfilledPlaceRow, UnfilledSkill
from matching.insight.registry import Dashboard, register
from matching.insight.rules import (
    BAND_LABELS,
    RECRUITABLE,
    STOP_LABELS,
    STOP_SHORT,
    StopRule,
    TimeBand,
    UnfilledPlace,
    targets,
)
from matching.insight.scope import Scope
from vetting.policy import current_task_policies

NO_SKILL = "No particular skill"
TARGETS_SHOWN = 10


@dataclass
class Group:
    """One row of a by-key table: a key's unfilled places and requests, and the places each rule stopped."""

    places: int = 0
    requests: int = 0
    rules: Counter = field(default_factory=Counter)

    def add(self, other: Group) -> None:
        self.places += other.places
        self.requests += other.requests
        self.rules.update(other.rules)


def _where(scope: Scope) -> list:
    conditions = [UnfilledPlaceRow.day >= scope.first_day, UnfilledPlaceRow.day <= scope.last_day]
    if scope.ward_ids is not None:
        conditions.append(UnfilledPlaceRow.ward_id.in_(sorted(scope.ward_ids) or [-1]))
    return conditions


def grouped(db: Session, scope: Scope, key, join=None) -> dict[object, Group]:
    """Unfilled places and requests in ``scope`` by ``key`` (a column) and stopping rule, summed in SQL."""
    query = select(key, UnfilledPlaceRow.stop_rule, func.sum(UnfilledPlaceRow.places), func.count()).select_from(
        UnfilledPlaceRow
    )
    if join is not None:
        query = query.outerjoin(*join)
    groups: dict[object, Group] = defaultdict(Group)
    for value, rule, places, requests in db.execute(
        query.where(*_where(scope)).group_by(key, UnfilledPlaceRow.stop_rule)
    ):
        groups[value].add(Group(int(places), int(requests), Counter({StopRule(rule): int(places)})))
    return dict(groups)


def _named(groups: dict[object, Group], name: Callable[[object], str]) -> dict[str, Group]:
    """The groups under their names in words, merging any two keys of the same name."""
    out: dict[str, Group] = defaultdict(Group)
    for key, group in groups.items():
        out[name(key)].add(group)
    return dict(out)


def _targets(db: Session, scope: Scope, boroughs: dict[int, str]) -> list:
    """The recruitment targets: the groups (borough, skills, time band) of places stopped by skills or
    availability, summed in SQL; the peak at one time worked out only for the groups that can make the top ten
    (ties with the tenth included), from their requests' slots."""
    recruitable = [*_where(scope), UnfilledPlaceRow.stop_rule.in_(sorted(str(r) for r in RECRUITABLE))]
    keys = (UnfilledPlaceRow.borough_id, UnfilledPlaceRow.skills, UnfilledPlaceRow.time_band)
    sums = db.execute(select(*keys, func.sum(UnfilledPlaceRow.places)).where(*recruitable).group_by(*keys)).all()
    if not sums:
        return []
    ranked = sorted((int(row[3]) for row in sums), reverse=True)
    least = ranked[min(len(ranked), TARGETS_SHOWN) - 1]
    chosen = [tuple(row[:3]) for row in sums if int(row[3]) >= least]
    slots = db.execute(
        select(*keys, UnfilledPlaceRow.starts_at, UnfilledPlaceRow.ends_at, UnfilledPlaceRow.places).where(
            *recruitable,
            tuple_(*keys).in_(chosen),
        )
    ).all()
    return targets(
        (
            UnfilledPlace(
                area=boroughs[borough_id],
                skill=skills or None,
                band=TimeBand(band),
                starts_at=starts_at,
                ends_at=ends_at,
                places=places,
            )
            for borough_id, skills, band, starts_at, ends_at, places in slots
        ),
        limit=TARGETS_SHOWN,
    )


# ---- The page ------------------------------------------------------------------------------------

_RULE_ORDER = list(StopRule)


def _most(rules: Counter) -> str:
    """The rule that stopped most of a group's places, with how many ("Availability (5)")."""
    if not rules:
        return ""
    rule, places = max(rules.items(), key=lambda item: (item[1], -_RULE_ORDER.index(item[0])))
    return f"{STOP_SHORT[rule]} ({places:,})"


def _table(
    groups: dict[str, Group],
    id: str,
    caption: str,
    heading: str,
    order: list[str] | None = None,
) -> Table:
    """Unfilled places and requests by a key, with the rule that stopped most of them; most places first
    (or in ``order``, every one shown)."""
    names = order if order is not None else sorted(groups, key=lambda k: (-groups[k].places, k))
    empty = Group()
    return Table(
        id=id,
        caption=caption,
        headers=(heading, "Unfilled places", "Requests", "Stopped most by"),
        rows=tuple(
            (
                name,
                groups.get(name, empty).places,
                groups.get(name, empty).requests,
                _most(groups.get(name, empty).rules),
            )
            for name in names
        ),
        numeric=frozenset({1, 2}),
        empty_text="No places went unfilled in this period.",
    )


def _by_borough(scope: Scope) -> bool:
    """Wards are too many to read across more than a borough: all London, or a whole BCU, goes by borough."""
    return scope.ward_ids is None or (scope.bcu_id is not None and scope.borough_id is None and scope.ward_id is None)


def build(db: Session, scope: Scope, now: dt.datetime) -> Page:
    fresh = summaries.ensure(db, now)
    area_by_borough = _by_borough(scope)
    by_band = _named(grouped(db, scope, UnfilledPlaceRow.time_band), lambda band: BAND_LABELS[TimeBand(band)])
    policies = current_task_policies(db)
    by_task = _named(
        grouped(db, scope, UnfilledPlaceRow.task_type_code),
        lambda code: policies[code].name if code in policies else str(code),
    )
    by_skill = _named(
        grouped(
            db,
            scope,
            UnfilledSkill.skill,
            join=(UnfilledSkill, UnfilledSkill.request_id == UnfilledPlaceRow.request_id),
        ),
        lambda skill: skill or NO_SKILL,
    )
    by_area_id = grouped(db, scope, UnfilledPlaceRow.borough_id if area_by_borough else UnfilledPlaceRow.ward_id)
    boroughs = dict(db.execute(select(Borough.id, Borough.name)).all())
    if area_by_borough:
        by_area = _named(by_area_id, lambda borough_id: boroughs[borough_id])
    else:
        wards = {
            ward_id: f"{ward} ({borough})"
            for ward_id, ward, borough in db.execute(
                select(Ward.id, Ward.name, Borough.name)
                .join(Borough, Borough.id == Ward.borough_id)
                .where(Ward.id.in_(sorted(by_area_id) or [-1]))
            )
        }
        by_area = _named(by_area_id, lambda ward_id: wards[ward_id])

    by_rule_group = grouped(db, scope, UnfilledPlaceRow.stop_rule)
    by_rule = Counter({StopRule(rule): group.places for rule, group in by_rule_group.items()})
    rule_requests = Counter({StopRule(rule): group.requests for rule, group in by_rule_group.items()})
    total = sum(by_rule.values())
    rules_shown = sorted(by_rule, key=lambda r: (-by_rule[r], _RULE_ORDER.index(r)))
    rule_table = Table(
        id="unfilled-by-rule",
        caption="Unfilled places by the rule that stopped them",
        headers=("Stopped by", "Unfilled places", "Requests"),
        rows=tuple((STOP_LABELS[r], by_rule[r], rule_requests[r]) for r in rules_shown),
        numeric=frozenset({1, 2}),
        empty_text="No places went unfilled in this period.",
    )
    if total:
        top = rules_shown[0]
        rule_summary = (
            f"Of {plural(total, 'unfilled place')}, {by_rule[top]:,} "
            f"{'was' if by_rule[top] == 1 else 'were'} stopped by {STOP_SHORT[top].lower()}: "
            f"{STOP_LABELS[top].split(': ', 1)[-1]}."
        )
        rule_chart = chart_from_table(
            Table(
                id="chart",
                caption="",
                headers=("Stopped by", "Unfilled places"),
                rows=tuple((STOP_SHORT[r], by_rule[r]) for r in rules_shown),
            ),
            title="Unfilled places by the rule that stopped them",
            summary=rule_summary,
            columns=(1,),
            kind="hbar",
        )
    else:
        rule_summary, rule_chart = "No places went unfilled in this period.", None

    found_targets = _targets(db, scope, boroughs)
    target_table = Table(
        id="recruitment-targets",
        caption="Recruitment targets: who would have filled the places stopped by skills or availability",
        headers=("Borough", "Skill", "Time of day", "More volunteers", "Places they would have filled"),
        rows=tuple((t.area, t.skill or NO_SKILL, BAND_LABELS[t.band], t.people, t.places) for t in found_targets),
        numeric=frozenset({3, 4}),
        empty_text="No places were stopped by skills or availability in this period.",
    )

    return Page(
        title="Why places went unfilled",
        freshness=fresh.words(),
        sections=(
            Section(
                id="by-rule",
                heading="Which rule stopped them",
                paragraphs=(
                    rule_summary,
                    "Each unfilled request is read in the latest matching run that covered it. The rule that "
                    "stopped it is the first in its funnel after which nobody was left; if someone was always "
                    "left but too few, the rule that removed the most people; if enough passed every rule, it "
                    "was not the rules. Unfilled places are those not booked when the request's time came; "
                    "cancelled requests are left out.",
                ),
                chart=rule_chart,
                tables=(rule_table,),
            ),
            Section(
                id="targets",
                heading="Recruitment targets",
                paragraphs=(
                    "Places stopped by skills or availability, grouped by borough, the skills asked for and the "
                    "time of day. More volunteers is the most of those places unfilled at one time, so that many "
                    "more people with the skills, free then, would have filled every one of them.",
                ),
                bullets=tuple(t.sentence() for t in found_targets),
                tables=(target_table,),
            ),
            Section(
                id="by-task-type",
                heading="By task type",
                tables=(
                    _table(
                        by_task,
                        "unfilled-by-task-type",
                        "Unfilled places by task type",
                        "Task type",
                    ),
                ),
            ),
            Section(
                id="by-skill",
                heading="By skill asked for",
                paragraphs=("A place that needed two skills counts under each.",),
                tables=(
                    _table(
                        by_skill,
                        "unfilled-by-skill",
                        "Unfilled places by skill asked for",
                        "Skill",
                    ),
                ),
            ),
            Section(
                id="by-area",
                heading="By borough" if area_by_borough else "By ward",
                tables=(
                    _table(
                        by_area,
                        "unfilled-by-area",
                        "Unfilled places by borough" if area_by_borough else "Unfilled places by ward",
                        "Borough" if area_by_borough else "Ward",
                    ),
                ),
            ),
            Section(
                id="by-time",
                heading="By time of day",
                paragraphs=("By the London time the place's slot started.",),
                tables=(
                    _table(
                        by_band,
                        "unfilled-by-time",
                        "Unfilled places by time of day",
                        "Time of day",
                        order=list(BAND_LABELS.values()) if total else [],
                    ),
                ),
            ),
        ),
    )


register(
    Dashboard(
        slug="unfilled",
        title="Why places went unfilled",
        description="Which rules stop most places being filled, where and when, and who to recruit.",
        build=build,
    )
)
