"""Property tests: on any instance, no plan breaks a hard rule and the reported figures are true."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.solver.instance import Instance
from matching.solver.plan import solve
from tests.unit.matching import broken_rules, make_instance, milli, plan_value

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn, max_volunteers: int = 6, max_requests: int = 5) -> Instance:
    volunteer_ids = [f"v{i}" for i in range(draw(st.integers(1, max_volunteers)))]
    request_ids = [f"r{j}" for j in range(draw(st.integers(1, max_requests)))]
    volunteers = {v: draw(st.sampled_from([0, 0.5, 1, 2, 2.5, 4, 8])) for v in volunteer_ids}
    requests = {r: (draw(st.integers(1, 3)), draw(st.integers(0, 4)), draw(st.booleans())) for r in request_ids}
    pairs = []
    for v, r in itertools.product(volunteer_ids, request_ids):
        if draw(st.booleans()):
            load = draw(st.sampled_from([0, 0.5, 1, 1.5, 2, 3]))
            pairs.append((v, r, load, draw(st.integers(-3000, 3000)) / 1000))
    clashes = [c for c in itertools.combinations(request_ids, 2) if draw(st.integers(0, 2)) == 0]
    return make_instance(volunteers, requests, pairs, clashes)


def _assert_truthful(instance: Instance, plan) -> None:
    assert not broken_rules(instance, plan)
    assert (plan.coverage, milli(plan.score)) == plan_value(instance, plan)
    assert plan.bound_coverage >= plan.coverage
    assert milli(plan.bound_score) >= milli(plan.score)
    if plan.optimal:
        assert (plan.bound_coverage, milli(plan.bound_score)) == (plan.coverage, milli(plan.score))
    assert list(plan.assignments) == sorted(plan.assignments, key=lambda a: (a.request, a.volunteer))


@PROPERTY_SETTINGS
@given(instances())
def test_no_plan_breaks_a_rule_and_the_figures_add_up(instance: Instance) -> None:
    _assert_truthful(instance, solve(instance, time_limit=5))


@PROPERTY_SETTINGS
@given(instances())
def test_every_path_reaches_the_same_optimum(instance: Instance) -> None:
    automatic = solve(instance, time_limit=5)
    cpsat = solve(instance, time_limit=5, path="cpsat")
    assert automatic.optimal and cpsat.optimal
    assert (automatic.coverage, milli(automatic.score)) == (cpsat.coverage, milli(cpsat.score))


@settings(max_examples=25, deadline=None)
@given(instances(max_volunteers=8, max_requests=6))
def test_a_starved_time_limit_still_gives_a_valid_plan_and_true_bounds(instance: Instance) -> None:
    plan = solve(instance, time_limit=0.001, path="cpsat")
    _assert_truthful(instance, plan)
    exact = solve(instance, time_limit=5)
    assert exact.optimal
    # Bounds bound the optimal plan, whatever the starved search managed to find.
    assert plan.bound_coverage >= exact.coverage
    assert milli(plan.bound_score) >= milli(exact.score)
