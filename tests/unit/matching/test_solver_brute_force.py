"""Random tiny instances against the exhaustive optimum: every path must be exactly optimal."""

from __future__ import annotations

import pytest

from matching.solver.plan import solve
from tests.unit.matching import broken_rules, brute_force, milli, plan_value, random_instance

SEEDS = range(120)


def _check(instance, path: str) -> None:
    plan = solve(instance, time_limit=5, path=path)
    assert not broken_rules(instance, plan)
    assert plan.optimal
    found = (plan.coverage, milli(plan.score))
    assert found == plan_value(instance, plan)
    assert found == brute_force(instance), f"path {path} missed the optimum on {instance}"
    assert (plan.bound_coverage, milli(plan.bound_score)) == found


@pytest.mark.parametrize("seed", SEEDS)
def test_flow_path_is_optimal(seed: int) -> None:
    _check(random_instance(seed, flow_only=True), "flow")


@pytest.mark.parametrize("seed", SEEDS)
def test_cpsat_path_is_optimal(seed: int) -> None:
    _check(random_instance(seed), "cpsat")


@pytest.mark.parametrize("seed", SEEDS)
def test_automatic_paths_are_optimal(seed: int) -> None:
    """Auto mixes direct, flow and CP-SAT components, with clashes and teams."""
    _check(random_instance(1000 + seed), "auto")
    _check(random_instance(2000 + seed, flow_only=True), "auto")


def test_the_random_instances_exercise_every_path() -> None:
    used = {"direct": 0, "flow": 0, "cpsat": 0}
    for seed in SEEDS:
        for instance in (random_instance(1000 + seed), random_instance(2000 + seed, flow_only=True)):
            for path, counts in solve(instance).stats["paths"].items():
                used[path] += counts["components"]
    assert min(used.values()) >= 10, used
