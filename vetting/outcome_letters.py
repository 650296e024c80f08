"""What a volunteer is told of each vetting outcome, in plain words. Pure: no Flask, no ORM.

Each letter says what happened, what it means for the tasks they can be offered, and how to appeal
where they can (with the last day). It never carries an officer's reasons or notes, nor where
information came from: ``LetterFacts`` has no field for them, so no caller can pass them by mistake.
The link to their vetting page is added when the email is sent (``vetting.notices``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from core.timeutil import format_date


class Letter(enum.StrEnum):
    GRANTED = "granted"
    GRANTED_WITH_RESTRICTIONS = "granted_with_restrictions"
    RENEWED = "renewed"
    REFUSED = "refused"
    RENEWAL_REFUSED = "renewal_refused"
    DISCONTINUED = "discontinued"
    NOT_RENEWED = "not_renewed"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_OVERTURNED = "appeal_overturned"


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter may say. ``restricted_tasks`` are task names; ``appeal_until`` the last day."""

    name: str
    clearance: str
    valid_from: date | None = None
    expires_on: date | None = None
    restricted_tasks: tuple[str, ...] = ()
    appeal_until: date | None = None


_APPEAL = (
    "If you think this decision is wrong, you can appeal until {until}. Tell us why on your vetting page "
    "(the link is below). An officer who took no part in this decision will look at your appeal."
)
_OFFERS_AFFECTED = (
    "You will not be offered tasks that need it, and if this affects anything you are booked on, "
    "we will tell you separately."
)


def compose(letter: Letter, facts: LetterFacts) -> tuple[str, str]:
    """The subject and the body (from the greeting to before the link) of one outcome email."""
    name, clearance = facts.name, facts.clearance
    valid = _valid(facts)
    appeal = _APPEAL.format(until=format_date(facts.appeal_until)) if facts.appeal_until else ""
    subject, paragraphs = {
        Letter.GRANTED: (
            f"Your {clearance} clearance has been granted",
            [
                f"Your {clearance} clearance has been granted. It is {valid}.",
                "You can now be offered tasks that need it.",
            ],
        ),
        Letter.GRANTED_WITH_RESTRICTIONS: (
            f"Your {clearance} clearance has been granted with restrictions",
            [
                f"Your {clearance} clearance has been granted with restrictions. It is {valid}.",
                "You can be offered tasks that need it, except: " + _listed(facts.restricted_tasks) + ".",
                "If your circumstances change, report it from your profile and the vetting team will look again.",
            ],
        ),
        Letter.RENEWED: (
            f"Your {clearance} clearance has been renewed",
            [f"Your {clearance} clearance has been renewed. It is {valid}.", "Nothing else changes for you."],
        ),
        Letter.REFUSED: (
            f"Your {clearance} clearance has not been granted",
            [
                f"We have decided not to grant your {clearance} clearance.",
                "This means your application to volunteer is not going ahead, and you will not be offered tasks.",
                appeal,
            ],
        ),
        Letter.RENEWAL_REFUSED: (
            f"Your {clearance} clearance will not be renewed",
            [
                f"We have decided not to renew your {clearance} clearance. It stays valid until "
                f"{format_date(facts.expires_on)} unless we write to you again; after that you will not be "
                "offered tasks that need it.",
                appeal,
            ],
        ),
        Letter.DISCONTINUED: (
            f"Your application for {clearance} clearance is not going ahead",
            [
                f"Your application for {clearance} clearance is not going ahead, so you will not be offered tasks.",
                "If you did not expect this, or would like to apply again, contact the volunteer team.",
            ],
        ),
        Letter.NOT_RENEWED: (
            f"Your {clearance} clearance will not be renewed",
            [
                f"Your {clearance} clearance will not be renewed. It stays valid until "
                f"{format_date(facts.expires_on)}; after that you will not be offered tasks that need it.",
                "This is not a finding against you. If you think it should be renewed, contact the vetting team.",
            ],
        ),
        Letter.SUSPENDED: (
            f"Your {clearance} clearance is suspended",
            [
                f"Your {clearance} clearance is suspended while the vetting team looks into new information.",
                _OFFERS_AFFECTED,
                "You do not need to do anything now. The vetting team will write to you when they have decided.",
            ],
        ),
        Letter.REINSTATED: (
            f"Your {clearance} clearance is back in force",
            [
                f"The vetting team has finished looking into the matter, and your {clearance} clearance is back "
                f"in force. It is {valid}.",
                "You can be offered tasks that need it again.",
            ],
        ),
        Letter.WITHDRAWN: (
            f"Your {clearance} clearance has been withdrawn",
            [f"We have withdrawn your {clearance} clearance.", _OFFERS_AFFECTED, appeal],
        ),
        Letter.LAPSED: (
            f"Your {clearance} clearance has expired",
            [
                f"Your {clearance} clearance ended on {format_date(facts.expires_on)} and has not been renewed.",
                "You will not be offered tasks that need it until you are vetted again. The vetting team will "
                "contact you if it is to be renewed.",
            ],
        ),
        Letter.APPEAL_UPHELD: (
            f"Your appeal about your {clearance} clearance: the decision stands",
            [
                f"An officer who took no part in the original decision has looked at your appeal about your "
                f"{clearance} clearance, and the decision stands.",
                "This decision is final.",
            ],
        ),
        Letter.APPEAL_OVERTURNED: (
            f"Your appeal about your {clearance} clearance has succeeded",
            [
                f"Your appeal succeeded: your {clearance} clearance is granted. It is {valid}.",
                "You can now be offered tasks that need it.",
            ],
        ),
    }[letter]
    body = f"Dear {name},\n\n" + "\n\n".join(p for p in paragraphs if p) + "\n"
    return subject, body


def _valid(facts: LetterFacts) -> str:
    if facts.valid_from and facts.expires_on:
        return f"valid from {format_date(facts.valid_from)} until {format_date(facts.expires_on)}"
    if facts.expires_on:
        return f"valid until {format_date(facts.expires_on)}"
    return "in force"


def _listed(names: tuple[str, ...]) -> str:
    words = [n[:1].lower() + n[1:] for n in names] or ["the tasks your vetting page lists"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
