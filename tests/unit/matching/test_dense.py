"""Dense components (issue #22): every volunteer a candidate for every request, each a knapsack.

The command finds the brute-force optimum of a small dense instance from bench/dense/generate.py; the
dense path (``matching.solver.dense``) is exact where it proves, its neighbourhoods keep every rule
(teams and clashes included) and never make a plan worse, and a dense instance the solver cannot prove
uses its whole time limit.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from bench.dense.generate import Shape, generate
from matching.solver import dense
from matching.solver.components import Component, decompose, value
from matching.solver.cpsat import Budget
from matching.solver.dense import NEIGHBOURHOOD_VOLUNTEERS, is_dense, solve_dense
from matching.solver.dense import _neighbourhoods as neighbourhoods
from matching.solver.heuristics import greedy
from matching.solver.instance import Instance, parse_instance
from matching.solver.plan import Assignment, Plan, solve
from tests.unit.matching import broken_rules, brute_force, milli, random_instance
from tests.unit.matching.test_cli import run_cli


def exhaustive(instance: Instance) -> tuple[int, int]:
    """The lexicographic optimum (coverage, score thousandths) of a dense instance without clashes or
    teams, by trying every way to staff every request: each takes a set of at most `needed` volunteers."""
    volunteers = [v.id for v in instance.volunteers]
    pair = {(p.volunteer, p.request): p for p in instance.pairs}
    options = [
        [team for size in range(r.needed + 1) for team in itertools.combinations(volunteers, size)]
        for r in instance.requests
    ]
    capacity = {v.id: v.capacity_milli for v in instance.volunteers}
    best = (0, 0)
    for staffing in itertools.product(*options):
        used = dict.fromkeys(volunteers, 0)
        coverage = score = 0
        for request, team in zip(instance.requests, staffing, strict=True):
            for v in team:
                used[v] += pair[(v, request.id)].load_milli
                coverage += request.priority
                score += pair[(v, request.id)].score_milli
        if all(used[v] <= capacity[v] for v in volunteers):
            best = max(best, (coverage, score))
    return best


@pytest.mark.parametrize(
    "shape",
    [Shape(3, 6, "corr", "tight", 0), Shape(3, 6, "uncorr", "tight", 1), Shape(3, 7, "corr", "loose", 2)],
    ids=lambda shape: shape.name,
)
def test_the_command_finds_the_brute_force_optimum_of_a_small_dense_instance(tmp_path: Path, shape: Shape) -> None:
    data = generate(shape)
    instance = parse_instance(data)
    assert len(instance.pairs) == shape.volunteers * shape.requests  # everyone a candidate for everything
    # Capacities well below the sum of the loads: each volunteer is a knapsack that binds.
    for volunteer in instance.volunteers:
        own = sum(p.load_milli for p in instance.pairs if p.volunteer == volunteer.id)
        assert volunteer.capacity_milli < own
    optimum = exhaustive(instance)
    path = tmp_path / "dense.json"
    path.write_text(json.dumps(data))
    done = run_cli(str(path), "--time-limit", "5")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert (plan["coverage"], milli(plan["score"])) == optimum
    assert plan["optimal"] is True
    assert (plan["bound"]["coverage"], milli(plan["bound"]["score"])) == optimum


@pytest.mark.parametrize("seed", range(3))
def test_the_dense_path_proves_the_brute_force_optimum(seed: int) -> None:
    instance = parse_instance(generate(Shape(3, 6, "uncorr", "tight", seed)))
    (component,) = decompose(instance).components
    outcome = solve_dense(component, Budget(deterministic=0.0, wall=5.0, workers=2))
    assert value(component, outcome.chosen) == exhaustive(instance)
    assert outcome.optimal
    assert (outcome.bound_coverage, outcome.bound_score) == exhaustive(instance)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("coverage_share", "score_share", "model_share"),
    [(0.0, 0.75, 0.75), (0.35, 0.0, 0.75), (0.0, 0.75, 0.0)],
    ids=["coverage-stopped", "score-stopped", "both-models-stopped"],
)
def test_the_dense_path_is_exact_and_its_bounds_honest_whichever_model_is_cut_short(
    monkeypatch: pytest.MonkeyPatch, seed: int, coverage_share: float, score_share: float, model_share: float
) -> None:
    """The coverage phase, the score phase and the weighted model each stopped at once (a thousandth of a
    second): the plan is valid and never above the brute-force optimum, the bounds never below it, and a
    plan said to be optimal is the optimum."""
    monkeypatch.setattr(dense, "COVERAGE_SHARE", coverage_share)
    monkeypatch.setattr(dense, "SCORE_SHARE", score_share)
    monkeypatch.setattr(dense, "MODEL_SHARE", model_share)
    instance = parse_instance(generate(Shape(3, 6, "corr", "tight", seed)))
    (component,) = decompose(instance).components
    optimum = exhaustive(instance)
    outcome = solve_dense(component, Budget(deterministic=0.0, wall=1.0, workers=2, seed=seed))
    assert not broken_rules(instance, _as_plan(component, outcome.chosen))
    found = value(component, outcome.chosen)
    assert found <= optimum <= (outcome.bound_coverage, outcome.bound_score)
    assert outcome.bound_coverage >= optimum[0]
    if outcome.optimal:
        assert found == optimum == (outcome.bound_coverage, outcome.bound_score)
    # The neighbourhoods have the rest of the second: on three volunteers they reach the optimum.
    assert found == optimum


def _as_plan(component: Component, chosen: list[int]) -> Plan:
    assignments = tuple(
        Assignment(
            component.volunteer_ids[component.pair_volunteer[p]], component.request_ids[component.pair_request[p]]
        )
        for p in chosen
    )
    return Plan(assignments, 0, 0.0, 0, 0.0, False, 0.0)


@pytest.mark.parametrize("seed", range(40))
def test_neighbourhoods_keep_every_rule_and_never_make_the_plan_worse(seed: int) -> None:
    """With all-or-nothing teams and clashes, from a greedy plan: every plan kept is valid, never worse,
    and on instances small enough to brute-force the search reaches the optimum."""
    instance = random_instance(5000 + seed, max_pairs=14)
    for component in decompose(instance).components:
        start = greedy(component)
        found, _ = neighbourhoods(
            component, start, 10_000_000, Budget(0.0, 1.0, workers=1, seed=seed), time.perf_counter() + 0.3, 0.0
        )
        assert not broken_rules(instance, _as_plan(component, found))
        assert value(component, found) >= value(component, start)
    # With at most NEIGHBOURHOOD_VOLUNTEERS volunteers, a neighbourhood is the whole component: the
    # search from nothing must then reach the optimum.
    components = decompose(instance).components
    if all(len(c.volunteer_ids) <= NEIGHBOURHOOD_VOLUNTEERS for c in components):
        total = [0, 0]
        for component in components:
            found, _ = neighbourhoods(
                component, [], 10_000_000, Budget(0.0, 1.0, workers=1, seed=seed), time.perf_counter() + 0.3, 0.0
            )
            assert not broken_rules(instance, _as_plan(component, found))
            coverage, score = value(component, found)
            total[0] += coverage
            total[1] += score
        assert tuple(total) == brute_force(instance)


def test_only_dense_components_take_the_dense_path() -> None:
    (dense,) = decompose(parse_instance(generate(Shape(5, 100, "corr", "tight", 0)))).components
    assert is_dense(dense)
    small = decompose(parse_instance(generate(Shape(3, 6, "corr", "tight", 0)))).components[0]
    assert not is_dense(small)  # the two phases prove it at once
    sparse = Component(
        volunteer_ids=[f"v{v}" for v in range(100)],
        request_ids=[f"r{r}" for r in range(100)],
        capacity=[10_000] * 100,
        needed=[1] * 100,
        priority=[1] * 100,
        all_or_nothing=[False] * 100,
        pair_volunteer=[v for v in range(100) for _ in range(8)],
        pair_request=[(v + k) % 100 for v in range(100) for k in range(8)],
        load=[1_000] * 800,
        score=[0] * 800,
    )
    assert not is_dense(sparse)  # 800 pairs, but 8% of the couples: a London-like shortlist


def test_a_dense_instance_not_proven_uses_its_whole_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "dense.json"
    path.write_text(json.dumps(generate(Shape(20, 200, "corr", "tight", 0))))
    done = run_cli(str(path), "--time-limit", "3")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["stats"]["dense_components"] == 1
    if not plan["optimal"]:  # the search went on until the limit
        assert plan["seconds"] >= 0.95 * 3
        assert plan["stats"]["wall_limit_hits"] == 1
    assert plan["coverage"] <= plan["bound"]["coverage"]


def test_a_dense_component_whose_weighted_objective_would_overflow_keeps_the_two_phases() -> None:
    # Priorities and scores at their limits: coverage × BIG would pass CP-SAT's 64-bit range.
    volunteers = [f"v{i}" for i in range(40)]
    requests = [f"r{j:02d}" for j in range(25)]
    data = {
        "volunteers": [{"id": v, "capacity": 1000} for v in volunteers],
        "requests": [{"id": r, "needed": 40, "priority": 10**6} for r in requests],
        "pairs": [
            {"volunteer": v, "request": r, "load": 1 + (i + j) % 3, "score": 10**6 if (i + j) % 2 else -(10**6)}
            for i, v in enumerate(volunteers)
            for j, r in enumerate(requests)
        ],
    }
    (component,) = decompose(parse_instance(data)).components
    assert not is_dense(component)
    done = solve(parse_instance(data), time_limit=2)
    assert done.stats["dense_components"] == 0
    assert done.coverage <= done.bound_coverage
