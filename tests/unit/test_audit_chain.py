"""The audit log's HMAC chain, over plain values (core.audit.chain: no app, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from core.audit.chain import (
    GENESIS_MAC,
    ChainEntry,
    ChainVerifier,
    canonical_json,
    compute_mac,
    entry_mac,
    format_at,
    verify_chain,
)

KEY = b"unit-test-audit-key-0123456789abcdef"
START = dt.datetime(2026, 3, 29, 0, 30, 0, 123456, tzinfo=dt.UTC)


def build_chain(n: int = 4, key: bytes = KEY) -> list[ChainEntry]:
    entries, prev = [], GENESIS_MAC
    for seq in range(1, n + 1):
        fields = dict(
            seq=seq,
            at=START + dt.timedelta(minutes=seq),
            actor_id=None if seq == 1 else 7,
            action="clearance.granted" if seq % 2 else "vetting_record.viewed",
            subject_type="volunteer",
            subject_id=str(40 + seq),
            detail=canonical_json({"clearance": "NPPV2", "note": f"entry {seq}"}),
            prev_mac=prev,
        )
        entry = ChainEntry(**fields, mac=compute_mac(key, **fields), id=100 + seq)
        entries.append(entry)
        prev = entry.mac
    return entries


def test_the_same_entries_give_the_same_macs():
    first, second = build_chain(), build_chain()
    assert [e.mac for e in first] == [e.mac for e in second]
    assert len({e.mac for e in first}) == len(first)
    assert first[0].prev_mac == GENESIS_MAC and first[1].prev_mac == first[0].mac
    assert all(len(e.mac) == 64 and int(e.mac, 16) >= 0 for e in first)


def test_an_intact_chain_verifies():
    result = verify_chain(build_chain(), KEY)
    assert result.ok and result.checked == 4 and result.bad_seq is None and result.reason is None


def test_an_empty_chain_verifies():
    result = verify_chain([], KEY)
    assert result.ok and result.checked == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("seq", 99),
        ("at", START + dt.timedelta(minutes=3, microseconds=1)),
        ("actor_id", 8),
        ("actor_id", None),
        ("action", "clearance.revoked"),
        ("subject_type", "user"),
        ("subject_id", "99"),
        ("detail", canonical_json({"clearance": "NPPV3", "note": "entry 3"})),
        ("prev_mac", "f" * 64),
        ("mac", "0" * 64),
    ],
)
def test_changing_any_field_breaks_the_chain_at_that_entry(field, value):
    entries = build_chain()
    assert getattr(entries[2], field) != value
    entries[2] = dataclasses.replace(entries[2], **{field: value})
    result = verify_chain(entries, KEY)
    assert not result.ok
    assert result.bad_seq == (99 if field == "seq" else 3)
    assert result.bad_id == 103 and result.checked == 3


def test_an_altered_entry_is_a_mac_mismatch_and_a_forged_link_a_broken_link():
    entries = build_chain()
    entries[1] = dataclasses.replace(entries[1], detail=canonical_json({"clearance": "forged"}))
    assert verify_chain(entries, KEY).reason.startswith("mac mismatch")
    # An entry that is correctly MAC'd but points at the wrong predecessor (spliced from elsewhere).
    entries = build_chain()
    fields = {f.name: getattr(entries[2], f.name) for f in dataclasses.fields(entries[2])} | {"prev_mac": "a" * 64}
    spliced = ChainEntry(**(fields | {"mac": entry_mac(KEY, ChainEntry(**fields))}))
    entries[2] = spliced
    result = verify_chain(entries, KEY)
    assert result.bad_seq == 3 and result.reason == "broken link: prev_mac is not the mac of entry seq=2"


def test_the_first_entry_must_link_to_the_genesis_value():
    entries = build_chain(1)
    fields = {f.name: getattr(entries[0], f.name) for f in dataclasses.fields(entries[0])} | {"prev_mac": "1" * 64}
    entry = ChainEntry(**(fields | {"mac": entry_mac(KEY, ChainEntry(**fields))}))
    result = verify_chain([entry], KEY)
    assert result.bad_seq == 1 and result.reason == "broken link: prev_mac is not the genesis value"


def test_another_key_breaks_the_chain_at_the_first_entry():
    result = verify_chain(build_chain(), b"another-key-entirely-0123456789abc")
    assert not result.ok and result.bad_seq == 1 and result.reason.startswith("mac mismatch")


def test_a_missing_entry_is_a_gap_at_the_next_entry():
    entries = build_chain(5)
    del entries[2]
    result = verify_chain(entries, KEY)
    assert (result.bad_seq, result.reason) == (4, "gap in seq: entry seq=3 is missing")
    del entries[0]
    assert verify_chain(entries, KEY).bad_seq == 2


def test_a_removed_tail_cannot_be_seen_by_the_chain_alone():
    # Why the log is append-only in the database too (triggers), not only chained.
    assert verify_chain(build_chain(5)[:3], KEY).ok


def test_changing_the_order_breaks_the_chain_at_the_first_entry_out_of_place():
    entries = build_chain(5)
    entries[1], entries[3] = entries[3], entries[1]
    result = verify_chain(entries, KEY)
    assert (result.bad_seq, result.checked) == (4, 2)
    assert result.reason == "gap in seq: entry seq=2..3 is missing"
    # Swapping the seq numbers along with the positions breaks the MACs, which cover seq.
    entries = build_chain(5)
    swapped = [dataclasses.replace(entries[0], seq=2), dataclasses.replace(entries[1], seq=1)]
    result = verify_chain(sorted(swapped, key=lambda e: e.seq) + entries[2:], KEY)
    assert result.bad_seq == 1 and result.bad_id == 102 and result.reason.startswith("mac mismatch")


def test_a_repeated_entry_is_reported():
    entries = build_chain(3)
    result = verify_chain([entries[0], entries[1], entries[1], entries[2]], KEY)
    assert (result.bad_seq, result.reason) == (2, "gap in seq: expected seq=3, found seq=2")


def test_verification_consumes_a_generator_lazily():
    pulled = []

    def stream():
        for entry in build_chain(6):
            pulled.append(entry.seq)
            yield dataclasses.replace(entry, mac="0" * 64) if entry.seq == 2 else entry

    result = verify_chain(stream(), KEY)
    assert result.bad_seq == 2 and pulled == [1, 2]


def test_the_verifier_checks_one_entry_at_a_time():
    verifier = ChainVerifier(KEY)
    assert [verifier.check(e) for e in build_chain(3)] == [None, None, None]
    assert verifier.checked == 3


def test_canonical_json_is_stable_whatever_the_key_order():
    a = {"b": 1, "a": {"y": [1, 2, {"k": "v", "j": None}], "x": True}, "c": "é"}
    b = {"c": "é", "a": {"x": True, "y": [1, 2, {"j": None, "k": "v"}]}, "b": 1}
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) == '{"a":{"x":true,"y":[1,2,{"j":null,"k":"v"}]},"b":1,"c":"\\u00e9"}'
    assert canonical_json({}) == "{}"


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"when": dt.date(2026, 1, 1)}, TypeError),
        ({"ratio": float("nan")}, ValueError),
        (["not", "a", "mapping"], TypeError),
    ],
)
def test_canonical_json_refuses_what_would_not_read_back_the_same(bad, error):
    with pytest.raises(error):
        canonical_json(bad)


def test_times_enter_the_mac_in_utc_with_microseconds():
    london_summer = dt.timezone(dt.timedelta(hours=1))
    assert format_at(dt.datetime(2026, 7, 1, 13, 0, tzinfo=london_summer)) == "2026-07-01T12:00:00.000000Z"
    with pytest.raises(ValueError, match="naive"):
        format_at(dt.datetime(2026, 7, 1, 12, 0))
    # The same instant in another zone is the same MAC.
    fields = dict(
        seq=1,
        actor_id=None,
        action="policy.changed",
        subject_type="policy",
        subject_id="1",
        detail="{}",
        prev_mac=GENESIS_MAC,
    )
    assert compute_mac(KEY, at=START, **fields) == compute_mac(KEY, at=START.astimezone(london_summer), **fields)


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError, match="key"):
        verify_chain(build_chain(), b"")
