"""Hours as people type them: "2.5", "2h 30m", "2 hours 30 minutes", "2:30", "90 minutes". Pure: no Flask, no ORM.

Hours are stored as whole minutes (house style: no floats for hours); a decimal is rounded to the nearest
minute ("1.33" is 80 minutes), which is closer than anyone's memory of a shift.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = r"\d+(?:[.,]\d+)?|[.,]\d+"
_HOURS_WORD = r"h|hr|hrs|hour|hours"
_MINUTES_WORD = r"m|min|mins|minute|minutes"
_WORDS = re.compile(
    rf"^(?:(?P<hours>{_NUMBER})\s*(?:{_HOURS_WORD}))?\s*(?:and\s*)?(?:(?P<minutes>\d+)\s*(?:{_MINUTES_WORD}))?$"
)
_PLAIN = re.compile(rf"^(?P<hours>{_NUMBER})$")
_CLOCK = re.compile(r"^(?P<hours>\d+):(?P<minutes>[0-5]\d)$")


def parse_minutes(text: str | None) -> int | None:
    """The number of minutes ``text`` says, or None if it is not a length of time a person would type.

    A bare number is hours ("2.5", "2,5", "3"); "2h 30m", "2 hours 30 minutes", "2 hrs", "45 mins" and "2:30"
    are read as written. Never negative; the caller checks the upper limit (so it can say what it is).
    """
    value = " ".join((text or "").strip().lower().split())
    if not value or len(value) > 40:
        return None
    for pattern in (_PLAIN, _CLOCK, _WORDS):
        match = pattern.match(value)
        if match is None:
            continue
        hours_text = match.groupdict().get("hours")
        minutes_text = match.groupdict().get("minutes")
        if hours_text is None and minutes_text is None:
            return None
        try:
            hours = Decimal((hours_text or "0").replace(",", "."))
        except InvalidOperation:
            return None
        minutes = int(minutes_text or 0)
        if pattern is _WORDS and hours_text and minutes >= 60:
            return None  # "2h 75m" is a typing slip, not 3 hours 15 minutes
        total = hours * 60 + minutes
        return int(total.to_integral_value(rounding="ROUND_HALF_UP"))
    return None


def hours_text(minutes: int) -> str:
    """How a form shows a number of minutes to edit: "2.5" for 150, "2h 20m" where a decimal would be inexact."""
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return str(hours)
    if rest in (15, 30, 45):
        return f"{minutes / 60:g}"
    return f"{hours}h {rest}m" if hours else f"{rest}m"
