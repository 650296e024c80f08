"""Counts, plurals and "a"/"an" as a reader expects them (issue 19, item 20)."""

from __future__ import annotations

import pytest

from core.wording import a_or_an, agree, count, plural
from matching.funnel import funnel
from tests.unit.matching.test_funnel import request, volunteer


def test_counts_have_thousands_separators():
    assert count(0) == "0"
    assert count(999) == "999"
    assert count(202096) == "202,096"
    assert count(1_000_000) == "1,000,000"


def test_plural_agrees_with_the_number_and_separates_thousands():
    assert plural(1, "problem") == "1 problem"
    assert plural(0, "problem") == "0 problems"
    assert plural(202096, "problem") == "202,096 problems"
    assert plural(2, "person", "people") == "2 people"
    assert plural(1, "person", "people") == "1 person"


def test_a_verb_agrees_with_its_number():
    assert f"{plural(1, 'problem')} in the file {agree(1, 'needs', 'need')} fixing" == (
        "1 problem in the file needs fixing"
    )
    assert f"{plural(3, 'problem')} in the file {agree(3, 'needs', 'need')} fixing" == (
        "3 problems in the file need fixing"
    )


@pytest.mark.parametrize(
    ("word", "article"),
    [
        ("8", "an"),
        ("8.5", "an"),
        ("11", "an"),
        ("18", "an"),
        ("80", "an"),
        ("800", "an"),
        ("1", "a"),
        ("5", "a"),
        ("10", "a"),
        ("110", "a"),
        ("1.5", "a"),
        ("apple", "an"),
        ("escort", "an"),
        ("hour", "an"),
        ("honest", "an"),
        ("user", "a"),
        ("university", "a"),
        ("one-off", "a"),
        ("European", "a"),
        ("sergeant", "a"),
        ("vetting officer", "a"),
        ("coordinator", "a"),
        ("NPPV2F clearance", "an"),
        ("MV", "an"),
        ("DBS check", "a"),
        ("SC", "an"),
        ("", "a"),
    ],
)
def test_a_or_an_follows_the_sound_of_the_next_word(word, article):
    assert a_or_an(word) == article


def test_the_funnels_travel_suggestion_says_an_8_km_limit():
    result = funnel(request(), [volunteer(1, km_north=12.0, limit=8)])
    assert result.suggestion.startswith("The nearest eligible volunteer is 12.0 km away with an 8 km limit")
