"""The flow relaxation's bounds: true bounds, and the same coverage bound by either method."""

from __future__ import annotations

import pytest

from matching.solver import relaxation
from matching.solver.components import decompose, trivial_bounds
from matching.solver.instance import SCALE
from matching.solver.plan import solve
from tests.unit.matching.test_determinism import borough_week


@pytest.mark.parametrize("seed", range(8))
def test_the_coverage_bound_by_max_flows_per_level_is_the_min_cost_flows(seed, monkeypatch):
    # Four priority levels (1, 2, 3, 5), teams, clashes and knapsacks; few volunteers for many requests,
    # so that the flow bound is below the trivial one (which would hide it).
    for component in decompose(borough_week(seed, volunteers=40, requests=120)).components:
        by_levels = relaxation.relaxation_bounds(component)
        assert by_levels[0] < trivial_bounds(component)[0]
        with monkeypatch.context() as patched:
            patched.setattr(relaxation, "MAX_FLOW_LEVELS", 0)
            assert relaxation.relaxation_bounds(component) == by_levels


@pytest.mark.parametrize("seed", range(4))
def test_the_bounds_are_at_least_the_proven_optimum(seed):
    instance = borough_week(seed, volunteers=60, requests=30)
    plan = solve(instance, time_limit=30)
    assert plan.optimal
    coverage = score = 0
    for component in decompose(instance).components:
        bound_coverage, bound_score = relaxation.relaxation_bounds(component)
        coverage += bound_coverage
        score += bound_score
    assert coverage >= plan.coverage and score / SCALE >= plan.score - 1e-9
