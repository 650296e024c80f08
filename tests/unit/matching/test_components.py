"""Effective clashes: every way decompose finds them gives the same set as checking each volunteer's pairs."""

from __future__ import annotations

import numpy as np
import pytest

from matching.solver import components
from matching.solver.components import decompose, lexorder
from tests.unit.matching.test_determinism import borough_week


def _by_hand(component) -> list[tuple[int, int]]:
    """Two pairs of one volunteer whose requests clash in the instance and whose loads fit together."""
    found = []
    for a in range(component.num_pairs):
        for b in range(a + 1, component.num_pairs):
            v = component.pair_volunteer[a]
            if v != component.pair_volunteer[b] or component.load[a] + component.load[b] > component.capacity[v]:
                continue
            requests = tuple(
                sorted(
                    (component.request_ids[component.pair_request[a]], component.request_ids[component.pair_request[b]])
                )
            )
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


@pytest.mark.parametrize("seed", range(20))
def test_lexorder_is_lexsort(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    widths = [int(w) for w in rng.choice([1, 3, 50, 10**6, 10**12], size=int(rng.integers(1, 4)))]
    keys = [rng.integers(-w, w + 1, size=n) for w in widths]  # ties, negatives, and some too wide to combine
    assert lexorder(*keys).tolist() == np.lexsort(keys[::-1]).tolist()


def test_lexorder_combines_keys_that_fit_and_falls_back_otherwise(monkeypatch):
    calls = []
    real = np.lexsort
    monkeypatch.setattr(np, "lexsort", lambda keys: calls.append(len(keys)) or real(keys))
    small = [np.array([2, 1, 2, 1]), np.array([0, 5, 0, 3]), np.array([9, 8, 7, 6])]
    assert lexorder(*small).tolist() == [3, 1, 2, 0] and calls == []
    wide = [np.array([1, 0]) * 2**40, np.array([0, 1]) * 2**40]
    assert lexorder(*wide).tolist() == [1, 0] and calls == [2]
