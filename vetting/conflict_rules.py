"""Conflict reviews as rules: which lines of work need one, whether a recorded review still covers someone,
and what it leaves them free to do. Pure: no Flask, no ORM.

Some lines of work can put a volunteer on both sides of a case: a cyber-security consultant whose firm's
client is the victim, a private investigator working the same matter, a paramedic asked to escort their own
trust's patient, a youth worker sent to the estate where the young people they work with live, a reservist
whose unit is mobilised. Before such a person is deployed at all, an officer or coordinator reviews their
conflicts of interest and records the outcome: no conflict; conflicts with these organisations or wards;
not suitable for these task types (or both of the last two).

Until a review covering their line of work is recorded, the person is matched for **no** task type: the
conflicts of a line of work (its clients, patients, young people) can arise in any task and any ward, and
the product cannot know in advance which ones; the force's rule is "a conflict review before any
deployment". A review covers the lines of work it was recorded for, and the employer it was recorded for
when an occupation is among them: a new employer (another firm's clients) or a new line of work needs a new
review. A reservist's civilian employer does not matter to their reservist line.

The latest review's findings stay in force until another review is recorded, even if the person leaves the
line of work: a former client is still a conflict.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "HEALTH",
    "LINE_LABELS",
    "RESERVIST",
    "ConflictStanding",
    "ConflictTerm",
    "Finding",
    "Outcome",
    "RecordedReview",
    "covers",
    "join_lines",
    "line_words",
    "outcome_of",
    "same_employer",
    "split_entries",
    "split_lines",
    "standing",
]

# The lines of work that need a review, as the volunteer's profile records them (its occupation category's
# value, or RESERVIST for a military reservist), with the words the officers' pages use.
RESERVIST = "military_reservist"
HEALTH = "nhs_ambulance"  # health staff volunteer only with their employer's permission
LINE_LABELS = {
    "private_security_cyber": "Private security or cyber-security consultancy",
    "private_investigation": "Private investigation",
    HEALTH: "Health: NHS, ambulance or other medical work",
    "youth_services": "Youth services",
    RESERVIST: "Military reservist",
}


class Finding(enum.StrEnum):
    """What a review may find; a review with no finding is "no conflict"."""

    CONFLICTS = "conflicts"  # conflicts with these organisations or wards
    NOT_SUITABLE = "not_suitable"  # not suitable for these task types


class Outcome(enum.StrEnum):
    NO_CONFLICT = "no_conflict"
    CONFLICTS = "conflicts"
    NOT_SUITABLE = "not_suitable"
    CONFLICTS_AND_NOT_SUITABLE = "conflicts_and_not_suitable"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.NO_CONFLICT: "No conflict of interest",
    Outcome.CONFLICTS: "Conflicts with organisations or wards",
    Outcome.NOT_SUITABLE: "Not suitable for some task types",
    Outcome.CONFLICTS_AND_NOT_SUITABLE: "Conflicts with organisations or wards; not suitable for some task types",
}


def outcome_of(findings: Iterable[Finding]) -> Outcome:
    found = set(findings)
    if found == {Finding.CONFLICTS, Finding.NOT_SUITABLE}:
        return Outcome.CONFLICTS_AND_NOT_SUITABLE
    if found == {Finding.CONFLICTS}:
        return Outcome.CONFLICTS
    if found == {Finding.NOT_SUITABLE}:
        return Outcome.NOT_SUITABLE
    return Outcome.NO_CONFLICT


@dataclass(frozen=True)
class ConflictTerm:
    """An organisation (by name) or a ward (by id) the person must not be sent to or for."""

    organisation: str = ""
    ward_id: int | None = None

    def __post_init__(self) -> None:
        if bool(self.organisation.strip()) == (self.ward_id is not None):
            raise ValueError("a conflict names an organisation or a ward, not both or neither")


@dataclass(frozen=True)
class RecordedReview:
    """Someone's latest conflict review, as the rules see it."""

    lines: frozenset[str]  # the lines of work it was recorded for
    employer: str  # their employer when it was recorded
    conflicts: tuple[ConflictTerm, ...] = ()
    unsuitable_for: frozenset[str] = frozenset()  # task type codes


@dataclass(frozen=True)
class ConflictStanding:
    """Where someone stands: whether a review their line of work needs is missing, and the latest review's
    findings (in force whatever their line of work is now)."""

    needed_for: frozenset[str]  # the lines of work they have now that need a review
    pending: bool  # a review covering them is not recorded: matched for nothing
    conflicts: tuple[ConflictTerm, ...] = ()
    unsuitable_for: frozenset[str] = frozenset()
    reviewed: bool = False  # some review has been recorded


def same_employer(a: str, b: str) -> bool:
    """The same employer as people type it: case, spacing and punctuation at the ends do not count."""
    return _normal(a) == _normal(b)


def covers(review: RecordedReview, lines: frozenset[str], employer: str) -> bool:
    """Whether ``review`` covers someone whose lines of work needing a review are ``lines`` and whose
    employer is ``employer``: it was recorded for all those lines, and (when an occupation is among them,
    not only the reservist line) for the same employer."""
    if not lines <= review.lines:
        return False
    if lines - {RESERVIST}:
        return same_employer(review.employer, employer)
    return True


def standing(lines: frozenset[str], employer: str, latest: RecordedReview | None) -> ConflictStanding | None:
    """Someone's standing from their lines of work needing a review now, their employer and their latest
    review; None when nothing applies (no such line of work and no review ever recorded)."""
    if latest is None:
        return ConflictStanding(needed_for=lines, pending=True) if lines else None
    return ConflictStanding(
        needed_for=lines,
        pending=bool(lines) and not covers(latest, lines, employer),
        conflicts=latest.conflicts,
        unsuitable_for=latest.unsuitable_for,
        reviewed=True,
    )


def line_words(lines: Iterable[str]) -> list[str]:
    """Lines of work in words, occupations first (as LINE_LABELS lists them); an unknown code as it is."""
    lines = set(lines)
    return [label for code, label in LINE_LABELS.items() if code in lines] + sorted(lines - LINE_LABELS.keys())


def join_lines(lines: Iterable[str]) -> str:
    """Lines of work as stored: their codes, sorted, comma-separated."""
    return ",".join(sorted(set(lines)))


def split_lines(text: str | None) -> frozenset[str]:
    return frozenset(code for code in (text or "").split(",") if code)


def split_entries(text: str | None) -> list[str]:
    """The names in a box of one name a line, as typed: blank lines and repeats (whatever their case or
    spacing) left out, in the order first given."""
    seen: set[str] = set()
    entries = []
    for line in (text or "").splitlines():
        entry = _SPACES.sub(" ", line).strip()
        if entry and _normal(entry) not in seen:
            seen.add(_normal(entry))
            entries.append(entry)
    return entries


_SPACES = re.compile(r"\s+")


def _normal(name: str) -> str:
    return _SPACES.sub(" ", name).strip(" .,;:-").casefold()
