"""What a new request's form starts from, before the sergeant changes it. Pure: no Flask, no ORM.

The kind of task says a lot about when it happens and how long it takes: a victim visit in working
hours, an escort of some hours, an event most of a day. The form pre-fills the window and the task's
length from here, the staffing from the task type's policy (``TaskPolicy``); the date is never guessed.
A task type a coordinator added since gets the office-hours default.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TypicalTiming:
    start: dt.time
    end: dt.time
    duration_minutes: int


def _timing(start: int, end: int, minutes: int) -> TypicalTiming:
    return TypicalTiming(dt.time(start), dt.time(end), minutes)


OFFICE_HOURS = _timing(9, 17, 60)
TYPICAL_TIMINGS = {
    "cyber_victim_visit": _timing(10, 16, 60),
    "business_cyber_visit": _timing(9, 17, 120),
    # Crises do not keep office hours: an afternoon into the evening, for the hours an escort and the handover take.
    "mental_health_escort": _timing(14, 22, 180),
    "domestic_abuse_support": _timing(10, 16, 90),
    "youth_schools_liaison": _timing(9, 15, 60),  # the school day
    "digital_evidence_triage": _timing(9, 17, 240),
    "public_event_support": _timing(10, 18, 360),
    "ct_digital_support": _timing(9, 17, 240),
}


def typical_timing(task_type_code: str) -> TypicalTiming:
    """The window and length a request of this kind usually has."""
    return TYPICAL_TIMINGS.get(task_type_code, OFFICE_HOURS)


# ---- The number the volunteers call -------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s()\-.]")


def uk_phone(text: str) -> str | None:
    """A UK telephone number as typed ('020 7946 0000', '+44 7700 900982', '(01632) 960 001'), tidied to single
    spaces, or None if it is not one: a UK number is 0 and 9 or 10 more digits (+44 stands for the 0)."""
    typed = " ".join((text or "").split())
    digits = _SEPARATORS.sub("", typed)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("0")
    if not (digits.isascii() and digits.isdigit() and digits.startswith("0") and 10 <= len(digits) <= 11):
        return None
    return typed
