"""CP-SAT's two phases on large models: phase 1 gets the whole budget, phase 2 only what a proven
phase 1 leaves."""

from __future__ import annotations

import pytest

from matching.solver import cpsat
from matching.solver.components import decompose, trivial_bounds, value
from matching.solver.cpsat import Budget, solve_cpsat
from matching.solver.relaxation import relaxation_bounds
from tests.unit.matching.test_determinism import borough_week


@pytest.fixture
def solves(monkeypatch):
    """Every CP-SAT solver made, in order (each phase makes one)."""
    made = []
    original = cpsat._solver

    def counted(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(cpsat, "_solver", counted)
    return made


def _largest(seed: int, volunteers: int, requests: int):
    component = max(
        decompose(borough_week(seed, volunteers=volunteers, requests=requests)).components, key=lambda c: c.num_pairs
    )
    assert component.num_pairs >= cpsat.LARGE_PAIRS
    return component


def test_a_large_model_stopped_in_phase_one_skips_phase_two(solves):
    component = _largest(0, 1000, 400)  # ~6,000 pairs
    outcome = solve_cpsat(component, Budget(deterministic=1e-3, wall=5.0))
    assert len(solves) == 1 and not outcome.optimal
    coverage, score = value(component, outcome.chosen)
    # The score bound is the flow relaxation's (phase 2 gave none), and still a bound on the plan.
    assert outcome.bound_score == max(min(trivial_bounds(component)[1], relaxation_bounds(component)[1]), score)
    assert outcome.bound_coverage >= coverage


def test_a_large_model_proven_in_phase_one_still_gets_phase_two(solves):
    component = _largest(1, 1000, 400)
    outcome = solve_cpsat(component, Budget(deterministic=30.0, wall=60.0))
    assert len(solves) == 2 and outcome.optimal
    assert (outcome.bound_coverage, outcome.bound_score) == value(component, outcome.chosen)
