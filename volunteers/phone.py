"""UK telephone numbers: is this one a volunteer's team can ring, and in what form to keep it. Pure.

Google's libphonenumber (the ``phonenumbers`` package) knows which UK ranges are in use and how many
digits each has, which a pattern of digits and spaces cannot: "07700 900 1" has too few digits, and
"+33 1 23 45 67 89" is a French number the team cannot be expected to ring.
"""

from __future__ import annotations

import re

import phonenumbers

EXAMPLES = "07700 900 982 or 020 7946 0000"
NOT_A_NUMBER = f"Enter a telephone number, like {EXAMPLES}"
NOT_UK = "Enter a UK telephone number, starting 0 or +44, like 07700 900 982"
WRONG_DIGITS = f"Enter a UK telephone number with all its digits, like {EXAMPLES}"

_UK = 44
# What people type in a telephone number: digits, spaces, brackets, hyphens, dots, one leading "+".
_SHAPE = re.compile(r"^\+?[0-9 ().-]{3,25}$")
# Ofcom's ranges set aside for drama and examples (the form's hint uses one; so do the demo and tests).
# libphonenumber calls them not valid, as no one can be rung on them; here they stand for a real number.
_DRAMA = re.compile(r"^(7700900\d{3}|2079460\d{3}|1632960\d{3}|1[1-9]1496\d{4}|11[3-8]496\d{4}|1914980\d{3})$")


class InvalidPhone(ValueError):
    """Not a UK telephone number; the message says what to enter instead."""


def uk_phone(text: str) -> str:
    """The UK number in ``text`` in the national format ("07911 123456"), or InvalidPhone saying why not."""
    typed = (text or "").strip()
    if not _SHAPE.match(typed):
        raise InvalidPhone(NOT_A_NUMBER)
    if typed.startswith("00"):
        typed = "+" + typed[2:]  # the international prefix dialled from the UK
    try:
        number = phonenumbers.parse(typed, "GB")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(NOT_A_NUMBER) from None
    if number.country_code != _UK:
        raise InvalidPhone(NOT_UK)
    national = str(number.national_number)
    if not (phonenumbers.is_valid_number(number) or _DRAMA.match(national)):
        raise InvalidPhone(WRONG_DIGITS)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
