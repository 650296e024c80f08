"""Effective clashes: every way decompose finds them gives the same set as checking each volunteer's pairs."""

from __future__ import annotations

import pytest

from matching import components
from matching.components import decompose
from tests.unit.matching.test_determinism import borough_week


def _by_hand(component) -> list[tuple[int, int]]:
    """Two pairs of one volunteer whose requests clash in the instance and whose loads fit together."""
    found = []
    for a in range(component.num_pairs):
        for b in range(a + 1, component.num_pairs):
            v = component.pair_volunteer[a]
            if v != component.pair_volunteer[b] or component.load[a] + component.load[b] > component.capacity[v]:
                continue
            requests = tuple(sorted((component.request_ids[component.pair_request[a]],
                                     component.request_ids[component.pair_request[b]])))
            if requests in CLASHES:
                found.append((a, b))
    return found


CLASHES: set[tuple[str, str]] = set()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("way", ["bitmap", "binary search", "from the clashes", "in slices of 7"])
def test_every_way_of_finding_effective_clashes_finds_the_same_ones(seed, way, monkeypatch):
    instance = borough_week(seed, volunteers=60, requests=40)
    CLASHES.clear()
    CLASHES.update(tuple(sorted(clash)) for clash in instance.clashes)
    if way == "binary search":
        monkeypatch.setattr(components, "CLASH_BITMAP_BITS", 0)
    if way == "in slices of 7":  # as a city week's 15 million pairs of pairs are looked at
        monkeypatch.setattr(components, "EFFECTIVE_SLICE", 7)
    # The side taken when volunteers have many pairs each but clashes are few.
    monkeypatch.setattr(components, "_volunteer_side_cheaper", lambda *counts: way != "from the clashes")
    found = decompose(instance)
    assert found.clashes_effective > 0
    for component in found.components:
        assert component.clashes == _by_hand(component)
