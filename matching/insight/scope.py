"""What a dashboard covers: a period of London days and an area, never more than the viewer may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields import SelectChoice

from core.auth.models import Role, User
from core.forms import BaseForm, FilterSelectField
from core.geography.models import Bcu, Borough, Ward
from core.timeutil import london_to_utc, london_today

# The periods a dashboard can show, newest last: rolling weeks, and calendar months (value "2026-11").
ROLLING = {
    "4w": ("The last 4 weeks", 28),
    "13w": ("The last 13 weeks", 91),
    "26w": ("The last 26 weeks", 182),
    "52w": ("The last 52 weeks", 364),
}
DEFAULT_PERIOD = "13w"
MONTHS_OFFERED = 12


@dataclass(frozen=True)
class Scope:
    """A period (London dates, both inclusive) and the wards in the area.

    ``ward_ids`` is None for all of London (a coordinator with no area chosen); otherwise the wards
    counted, which for a sergeant are always among their own. ``area_label`` says the area in words
    ("Camden", "Your wards", "All of London") and ``period_label`` the period.
    """

    first_day: dt.date
    last_day: dt.date
    ward_ids: frozenset[int] | None
    area_label: str
    period_label: str
    bcu_id: int | None = None
    borough_id: int | None = None
    ward_id: int | None = None
    period: str = DEFAULT_PERIOD

    @property
    def starts_at(self) -> dt.datetime:
        """The period's first moment (UTC), London midnight at its start."""
        return london_to_utc(self.first_day, dt.time(0, 0))

    @property
    def ends_at(self) -> dt.datetime:
        """The moment after the period (UTC): London midnight after its last day."""
        return london_to_utc(self.last_day + dt.timedelta(days=1), dt.time(0, 0))

    def covers_ward(self, ward_id: int | None) -> bool:
        return self.ward_ids is None or ward_id in self.ward_ids

    def query_args(self) -> dict[str, str]:
        """The filter as query arguments, for links (CSV downloads, the report) that keep it."""
        # The default period is the filter's first option, whose value is empty: a link leaves it out.
        args = {} if self.period == DEFAULT_PERIOD else {"period": self.period}
        for name in ("bcu", "borough", "ward"):
            value = getattr(self, f"{name}_id")
            if value is not None:
                args[name] = str(value)
        return args


def months_back(today: dt.date, count: int) -> list[dt.date]:
    """The first days of this month and the ``count - 1`` before it, newest first."""
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months


def period_days(period: str, today: dt.date) -> tuple[dt.date, dt.date, str] | None:
    """(first day, last day, words) of a period value, or None if it is not one we offer."""
    if period in ROLLING:
        label, days = ROLLING[period]
        return today - dt.timedelta(days=days - 1), today, label
    for month in months_back(today, MONTHS_OFFERED):
        if period == f"{month:%Y-%m}":
            following = (month + dt.timedelta(days=32)).replace(day=1)
            last = (
                min(following - dt.timedelta(days=1), today)
                if month.month == today.month
                else (following - dt.timedelta(days=1))
            )
            words = f"{month:%B %Y}" + (" (so far)" if last == today and month.month == today.month else "")
            return month, last, words
    return None


class DashboardFilterForm(BaseForm):
    """The dashboards' filter (a GET form): a period, and a BCU, borough or ward (the narrowest chosen wins)."""

    class Meta:
        csrf = False

    period = FilterSelectField("Period", "The last 13 weeks", "Choose a period from the list")
    bcu = FilterSelectField("BCU", "All BCUs", "Choose a BCU from the list")
    borough = FilterSelectField("Borough", "All boroughs", "Choose a borough from the list")
    ward = FilterSelectField("Ward", "All wards", "Choose a ward from the list")
    # Said under the ward select when it offers no wards yet (London-wide: see WARDS_OFFERED_AT_ONCE).
    ward_hint: str | None = None


def _visible_wards(db: Session, user: User) -> list[tuple[int, str, int, str, int, str]]:
    """(ward id, ward, borough id, borough, BCU id, BCU) the user may see, by BCU, borough and ward name."""
    query = (
        select(Ward.id, Ward.name, Borough.id, Borough.name, Bcu.id, Bcu.name)
        .join(Borough, Ward.borough_id == Borough.id)
        .join(Bcu, Borough.bcu_id == Bcu.id)
        .order_by(Bcu.name, Borough.name, Ward.name)
    )
    if user.role is Role.SERGEANT:
        query = query.where(Ward.id.in_([w.id for w in user.wards] or [-1]))
    return [tuple(row) for row in db.execute(query).all()]


# Up to this many wards are offered at once (a sergeant's, a borough's, a BCU's); London's 600 are not: a
# select of 600 options is no way to find one, and drawing it cost a coordinator's page a quarter of a second.
WARDS_OFFERED_AT_ONCE = 80


def _ward_options(wards: list[tuple], args) -> list[tuple]:
    """The wards the ward select offers: all the viewer's if few, else those of the borough or BCU asked for
    (or of the ward asked for's borough, so a link to one ward shows it chosen)."""
    if len(wards) <= WARDS_OFFERED_AT_ONCE:
        return wards

    def number(name: str) -> int | None:
        value = args.get(name, "")
        return int(value) if value.isdigit() and len(value) < 10 else None

    ward, borough, bcu = number("ward"), number("borough"), number("bcu")
    if borough is None and ward is not None:
        borough = next((row[2] for row in wards if row[0] == ward), None)
    if borough is not None:
        return [row for row in wards if row[2] == borough]
    if bcu is not None:
        return [row for row in wards if row[4] == bcu]
    return []


def resolve(db: Session, user: User, args, now: dt.datetime) -> tuple[DashboardFilterForm, Scope]:
    """The filter form (bound to the query arguments, with its errors) and the scope it chooses.

    A choice that is not offered, or a ward outside the chosen borough or BCU, is an error next to the field;
    the scope then falls back to the default for that field, so the page still shows figures. A sergeant
    only ever gets their own wards, whatever the arguments say.
    """
    today = london_today(now)
    if args.get("period") == DEFAULT_PERIOD:  # the default named (an old link, the API's wording): not an error
        args = args.copy()
        args["period"] = ""
    form = DashboardFilterForm(args)
    form.period.set_options(
        [SelectChoice(key, label) for key, (label, _days) in ROLLING.items() if key != DEFAULT_PERIOD]
        + [SelectChoice(f"{m:%Y-%m}", f"{m:%B %Y}") for m in months_back(today, MONTHS_OFFERED)]
    )
    form.period.any_text = ROLLING[DEFAULT_PERIOD][0]
    form.period.choices[0] = SelectChoice("", ROLLING[DEFAULT_PERIOD][0])
    wards = _visible_wards(db, user)
    bcus = dict.fromkeys((row[4], row[5]) for row in wards)
    boroughs = dict.fromkeys((row[2], row[3], row[4]) for row in wards)
    form.bcu.set_options([SelectChoice(str(i), name) for i, name in bcus])
    form.borough.set_options([SelectChoice(str(i), name) for i, name, _b in boroughs])
    form.ward.set_options([SelectChoice(str(row[0]), f"{row[1]} ({row[3]})") for row in _ward_options(wards, args)])
    if len(form.ward.choices) == 1:
        form.ward_hint = "Choose a BCU or a borough and select Show to choose one of its wards"
    form.validate()

    def chosen(field) -> int | None:
        return int(field.data) if field.data and not field.errors else None

    bcu_id, borough_id, ward_id = chosen(form.bcu), chosen(form.borough), chosen(form.ward)
    by_ward = {row[0]: row for row in wards}
    if borough_id is not None and bcu_id is not None and not any(r[2] == borough_id and r[4] == bcu_id for r in wards):
        form.borough.errors = [*form.borough.errors, "Choose a borough in the BCU you chose, or All boroughs"]
        borough_id = None
    if ward_id is not None and (
        (borough_id is not None and by_ward[ward_id][2] != borough_id)
        or (bcu_id is not None and by_ward[ward_id][4] != bcu_id)
    ):
        form.ward.errors = [*form.ward.errors, "Choose a ward in the borough or BCU you chose, or All wards"]
        ward_id = None

    period = form.period.data if form.period.data and not form.period.errors else DEFAULT_PERIOD
    first_day, last_day, period_label = period_days(period, today) or period_days(DEFAULT_PERIOD, today)

    if ward_id is not None:
        ward_ids, label = frozenset({ward_id}), by_ward[ward_id][1]
    elif borough_id is not None:
        ward_ids = frozenset(r[0] for r in wards if r[2] == borough_id)
        label = next(r[3] for r in wards if r[2] == borough_id)
    elif bcu_id is not None:
        ward_ids = frozenset(r[0] for r in wards if r[4] == bcu_id)
        label = f"{next(r[5] for r in wards if r[4] == bcu_id)} BCU"
    elif user.role is Role.SERGEANT:
        ward_ids, label = frozenset(by_ward), "Your wards"
    else:
        ward_ids, label = None, "All of London"
    scope = Scope(
        first_day=first_day,
        last_day=last_day,
        ward_ids=ward_ids,
        area_label=label,
        period_label=period_label,
        bcu_id=bcu_id,
        borough_id=borough_id,
        ward_id=ward_id,
        period=period,
    )
    return form, scope
