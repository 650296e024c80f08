"""The benchmark's bounds (bench/lp_bound.py): the Lagrangian bound from the LP's prices."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from bench import lp_bound
from bench import matching as bench
from bench.generator import generate_week
from matching.solver.components import decompose
from matching.solver.plan import solve


def _brute_force(items, worth, load, room, partners) -> float:
    best = 0.0
    for size in range(len(items) + 1):
        for chosen in itertools.combinations(items, size):
            if sum(load[p] for p in chosen) <= room and not any(b in partners[a] for a in chosen for b in chosen):
                best = max(best, sum(worth[p] for p in chosen))
    return best


def _random_volunteer(rng: random.Random):
    n = rng.randint(1, 9)
    worth = [round(rng.uniform(0.01, 9), 3) for _ in range(n)]
    load = [rng.choice([0, 30, 45, 60, 90, 120, 150]) for _ in range(n)]
    partners = {p: set() for p in range(n)}
    for a, b in itertools.combinations(range(n), 2):
        if rng.random() < 0.3:
            partners[a].add(b)
            partners[b].add(a)
    return list(range(n)), worth, load, rng.choice([0, 60, 120, 180, 240, 360]), partners


def test_a_volunteers_best_set_is_the_best_subset_that_fits_without_a_clash():
    rng = random.Random(0)
    for _ in range(300):
        items, worth, load, room, partners = _random_volunteer(rng)
        assert lp_bound.best_set(items, worth, load, room, partners) == pytest.approx(
            _brute_force(items, worth, load, room, partners), abs=1e-9
        )


def test_past_its_node_limit_the_best_set_is_bounded_by_cp_sat(monkeypatch):
    monkeypatch.setattr(lp_bound, "BEST_SET_NODES", 0)
    rng = random.Random(1)
    for _ in range(100):
        items, worth, load, room, partners = _random_volunteer(rng)
        exact = _brute_force(items, worth, load, room, partners)
        # Worths are rounded up to millionths for CP-SAT: a bound, within that rounding.
        assert exact - 1e-9 <= lp_bound.best_set(items, worth, load, room, partners) <= exact + len(items) * 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_the_lagrangian_bound_lies_between_the_proven_optimum_and_the_lp_bound(seed):
    instance = bench.build(generate_week(1000, 250, seed=seed)).instance
    plan = solve(instance, time_limit=20)
    assert plan.optimal
    lp = lagrangian = 0.0
    for component in decompose(instance).components:
        value, prices = lp_bound.relaxation(component)
        lp += value
        lagrangian += lp_bound.lagrangian_bound(component, prices)
    assert plan.coverage <= math.floor(lagrangian + 0.01)
    # Tighter than the LP on these weeks (by 1–4 places of ~320): the knapsacks and clashes are exact.
    assert lagrangian < lp - 0.5


def test_any_prices_give_a_bound():
    instance = bench.build(generate_week(1000, 250, seed=0)).instance
    plan = solve(instance, time_limit=20)
    components = decompose(instance).components
    for prices_of in (lambda c: [0.0] * len(c.request_ids), lambda c: [float(p) for p in c.priority]):
        total = sum(lp_bound.lagrangian_bound(c, prices_of(c)) for c in components)
        assert plan.coverage <= math.floor(total + 0.01)
