"""Counts and small words as a reader expects them: "202,096 problems", "1 problem needs", "an 8 km limit".

Pure: no Flask. ``create_app`` makes ``count`` and ``plural`` Jinja filters (``thousands``, ``plural``), so
templates and Python messages say numbers the same way.
"""

from __future__ import annotations

import re

__all__ = ["a_or_an", "agree", "count", "plural"]


def count(n: int) -> str:
    """A whole number with thousands separators: 202096 → '202,096' (a long run of digits is misread)."""
    return f"{n:,}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """The number and the noun that agrees with it: '1 problem', '0 problems', '2,500 people'."""
    return f"{count(n)} {singular if n == 1 else (plural_form or singular + 's')}"


def agree(n: int, singular_verb: str, plural_verb: str) -> str:
    """The verb that agrees with ``n`` things: agree(1, 'needs', 'need') → 'needs'."""
    return singular_verb if n == 1 else plural_verb


# Written words that begin with a vowel letter but sound like "you" or "won", and ones whose "h" is silent.
_CONSONANT_SOUND = re.compile(r"^(uni|use|usu|ura|uro|eu|ewe|one\b|one-|once)", re.IGNORECASE)
_SILENT_H = re.compile(r"^(hour|honest|honour|honor|heir)", re.IGNORECASE)
# Capital letters read out one by one ("an MV", "an SC", "a DBS check"): those whose name starts with a vowel.
_VOWEL_LETTER_NAMES = set("AEFHILMNORSX")


def a_or_an(next_words: str) -> str:
    """'a' or 'an' for the words that follow, by their sound: 'an 8 km limit', 'an 11-hour shift',
    'a user', 'an hour', 'an NPPV2F clearance', 'a DBS check'."""
    word = next_words.strip().split(" ")[0] if next_words.strip() else ""
    if not word:
        return "a"
    if word[0].isdigit():
        digits = re.match(r"\d+", word.replace(",", "")).group()  # the whole part: "8.5" is said "eight point five"
        # Said with a vowel first: 8, 80-89, 800…; 11 and 18 (and 11,000, 18,000 …, read "eleven thousand").
        if digits[0] == "8":
            return "an"
        group = len(digits) % 3 or 3  # the digits before the first thousands separator
        return "an" if digits[:group] in ("11", "18") else "a"
    letters = re.match(r"[A-Za-z]+", word)
    if letters and len(letters.group()) > 1 and letters.group().isupper():
        return "an" if letters.group()[0] in _VOWEL_LETTER_NAMES else "a"
    if _SILENT_H.match(word):
        return "an"
    if word[0].lower() in "aeiou" and not _CONSONANT_SOUND.match(word):
        return "an"
    return "a"
