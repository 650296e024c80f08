"""Issue #19 item 6: a UK telephone number, checked properly (volunteers.phone, pure)."""

from __future__ import annotations

import pytest

from volunteers.phone import InvalidPhone, uk_phone


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("07911 123456", "07911 123456"),
        ("+44 7911 123456", "07911 123456"),
        ("0044 20 7946 0000", "020 7946 0000"),
        ("(020) 7946-0000", "020 7946 0000"),
        ("0800 123 4567", "0800 123 4567"),
        ("07624 123456", "07624 123456"),  # Isle of Man: a +44 number
        # Ofcom's numbers for drama and examples: the form's own hint uses one.
        ("07700 900 982", "07700 900982"),
        ("01632 960 001", "01632 960001"),
    ],
)
def test_uk_numbers_are_accepted_and_kept_in_one_format(typed, kept):
    assert uk_phone(typed) == kept


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("07700 900 1", "Enter a UK telephone number with all its digits, like 07700 900 982 or 020 7946 0000"),
        ("020 7946 000", "Enter a UK telephone number with all its digits, like 07700 900 982 or 020 7946 0000"),
        ("0999 999 9999", "Enter a UK telephone number with all its digits, like 07700 900 982 or 020 7946 0000"),
        ("+33 1 23 45 67 89", "Enter a UK telephone number, starting 0 or +44, like 07700 900 982"),
        ("+1 202 555 0143", "Enter a UK telephone number, starting 0 or +44, like 07700 900 982"),
        ("call me", "Enter a telephone number, like 07700 900 982 or 020 7946 0000"),
        ("999", "Enter a UK telephone number with all its digits, like 07700 900 982 or 020 7946 0000"),
        ("0" * 10_000, "Enter a telephone number, like 07700 900 982 or 020 7946 0000"),
        ("", "Enter a telephone number, like 07700 900 982 or 020 7946 0000"),
    ],
)
def test_numbers_that_are_not_uk_numbers_are_refused_with_a_reason(typed, problem):
    with pytest.raises(InvalidPhone) as refused:
        uk_phone(typed)
    assert str(refused.value) == problem
