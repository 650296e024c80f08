"""Hand-checkable instances: each one's right answer can be worked out on paper."""

from __future__ import annotations

import pytest

from matching.solver.instance import Instance
from matching.solver.plan import Assignment, plan_to_json, solve
from tests.unit.matching import broken_rules, make_instance, milli, random_instance


def chosen(plan) -> set[tuple[str, str]]:
    return {(a.volunteer, a.request) for a in plan.assignments}


def test_priority_beats_score() -> None:
    # One place of time: the urgent request wins even though its score is far worse.
    instance = make_instance(
        {"v1": 1}, {"urgent": (1, 2), "routine": (1, 1)}, [("v1", "urgent", 1, -1), ("v1", "routine", 1, 5)]
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "urgent")}
    assert (plan.coverage, plan.score, plan.optimal) == (2, -1.0, True)


def test_two_low_priority_places_tie_one_high_priority_place_then_score_decides() -> None:
    instance = make_instance(
        {"v1": 2},
        {"a": (1, 2), "b": (1, 1), "c": (1, 1)},
        [("v1", "a", 2, 0.1), ("v1", "b", 1, 0.3), ("v1", "c", 1, 0.3)],
    )
    plan = solve(instance)
    assert plan.coverage == 2 and chosen(plan) == {("v1", "b"), ("v1", "c")}


def test_negative_score_is_taken_when_it_adds_coverage() -> None:
    instance = make_instance(
        {"v1": 8, "v2": 8},
        {"r1": (2, 1), "r0": (1, 0)},
        [("v1", "r1", 2, -0.5), ("v2", "r1", 2, 0.25), ("v1", "r0", 1, -0.1)],
    )
    plan = solve(instance)
    # Both places on r1 add coverage; the priority-0 request with a negative score adds nothing.
    assert chosen(plan) == {("v1", "r1"), ("v2", "r1")}
    assert (plan.coverage, milli(plan.score)) == (2, -250)


def test_all_or_nothing_with_too_few_volunteers_gets_nobody() -> None:
    instance = make_instance(
        {"v1": 8, "v2": 8},
        {"pair_visit": (3, 5, True), "leaflets": (2, 1)},
        [("v1", "pair_visit", 2, 1), ("v2", "pair_visit", 2, 1), ("v1", "leaflets", 2, 0), ("v2", "leaflets", 2, 0)],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "leaflets"), ("v2", "leaflets")}
    assert plan.coverage == 2 and plan.optimal


def test_all_or_nothing_team_is_filled_whole_or_traded_for_more_coverage() -> None:
    # v1 alone on 'urgent' (3) beats v1 + v2 on the two-person visit (1 + 1).
    instance = make_instance(
        {"v1": 1, "v2": 1},
        {"visit": (2, 1, True), "urgent": (1, 3)},
        [("v1", "visit", 1, 0), ("v2", "visit", 1, 0), ("v1", "urgent", 1, 0)],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "urgent")} and plan.coverage == 3
    # Make the visit worth more and the team is staffed whole.
    instance = make_instance(
        {"v1": 1, "v2": 1},
        {"visit": (2, 2, True), "urgent": (1, 3)},
        [("v1", "visit", 1, 0), ("v2", "visit", 1, 0), ("v1", "urgent", 1, 0)],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "visit"), ("v2", "visit")} and plan.coverage == 4


def test_clash_is_respected() -> None:
    # Without the clash v1 would take both (score 3); with it, v1 takes r2 and v2 covers r1.
    instance = make_instance(
        {"v1": 10, "v2": 10},
        {"r1": (1, 1), "r2": (1, 1)},
        [("v1", "r1", 1, 1), ("v1", "r2", 1, 2), ("v2", "r1", 1, -1)],
        clashes=[("r1", "r2")],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "r2"), ("v2", "r1")}
    assert (plan.coverage, plan.score) == (2, 1.0)
    assert plan.stats["paths"]["cpsat"]["components"] == 1


def test_a_clash_nobody_can_break_keeps_the_flow_path() -> None:
    # v1 has room for one place only, so the clash adds nothing and flow stays exact.
    instance = make_instance(
        {"v1": 2, "v2": 2},
        {"r1": (1, 1), "r2": (1, 1)},
        [("v1", "r1", 2, 1), ("v1", "r2", 2, 2), ("v2", "r1", 2, 0)],
        clashes=[("r1", "r2")],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "r2"), ("v2", "r1")}
    assert plan.stats["clashes_effective"] == 0
    assert plan.stats["paths"]["flow"]["components"] == 1


def test_capacity_with_mixed_loads_is_a_knapsack() -> None:
    # Greedy by score would take 'long' (3 h) and then fit nothing else; two short ones cover more.
    instance = make_instance(
        {"v1": 5},
        {"long": (1, 1), "short1": (1, 1), "short2": (1, 1)},
        [("v1", "long", 3, 0.9), ("v1", "short1", 2.5, 0.1), ("v1", "short2", 2.5, 0.1)],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "short1"), ("v1", "short2")}
    assert plan.coverage == 2 and milli(plan.score) == 200
    assert plan.stats["paths"]["cpsat"]["components"] == 1


def test_equal_loads_make_capacity_a_count() -> None:
    instance = make_instance(
        {"v1": 4.5}, {f"r{i}": (1, 1) for i in range(5)}, [("v1", f"r{i}", 1.5, i / 10) for i in range(5)]
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "r4"), ("v1", "r3"), ("v1", "r2")}
    assert plan.stats["paths"]["direct"]["components"] == 1


def test_zero_load_uses_no_capacity_and_over_capacity_pairs_are_never_taken() -> None:
    instance = make_instance(
        {"v1": 0, "v2": 1},
        {"phone": (2, 1), "patrol": (1, 1)},
        [("v1", "phone", 0, 0.1), ("v2", "phone", 0, 0.1), ("v2", "patrol", 1.001, 0.5), ("v1", "patrol", 1, 0.5)],
    )
    plan = solve(instance)
    assert chosen(plan) == {("v1", "phone"), ("v2", "phone")}


def test_components_solved_alone_add_up_to_the_whole() -> None:
    parts = [random_instance(seed, max_pairs=10) for seed in (3, 4, 5)]
    renamed = [_prefixed(part, f"p{i}_") for i, part in enumerate(parts)]
    whole = Instance(
        sum((p.volunteers for p in renamed), ()),
        sum((p.requests for p in renamed), ()),
        sum((p.pairs for p in renamed), ()),
        sum((p.clashes for p in renamed), ()),
    )
    alone = [solve(part) for part in renamed]
    together = solve(whole)
    assert together.coverage == sum(p.coverage for p in alone)
    assert milli(together.score) == sum(milli(p.score) for p in alone)
    assert together.optimal and all(p.optimal for p in alone)
    assert together.stats["components"] == sum(p.stats["components"] for p in alone)
    assert not broken_rules(whole, together)


def _prefixed(instance: Instance, prefix: str) -> Instance:
    return make_instance(
        {prefix + v.id: v.capacity for v in instance.volunteers},
        {prefix + r.id: (r.needed, r.priority, r.all_or_nothing) for r in instance.requests},
        [(prefix + p.volunteer, prefix + p.request, p.load, p.score) for p in instance.pairs],
        [(prefix + a, prefix + b) for a, b in instance.clashes],
    )


def test_extreme_costs_fall_back_from_flow_to_cpsat() -> None:
    # Priority and scores at their limits over many pairs overflow flow's single 64-bit cost.
    volunteers = {f"v{i}": 1000 for i in range(40)}
    requests = {f"r{j}": (40, 10**6) for j in range(25)}
    pairs = [
        (v, r, 1, 10**6 if (i + j) % 2 else -(10**6)) for i, v in enumerate(volunteers) for j, r in enumerate(requests)
    ]
    plan = solve(make_instance(volunteers, requests, pairs))
    assert plan.stats["flow_overflow_fallbacks"] == 1
    assert plan.optimal and plan.coverage == 1000 * 10**6 and plan.score == 0


def test_empty_instance() -> None:
    plan = solve(make_instance({"v1": 1}, {"r1": (1, 1)}, []))
    assert plan.assignments == () and plan.optimal
    assert (plan.coverage, plan.score, plan.bound_coverage, plan.bound_score) == (0, 0.0, 0, 0.0)


def test_plan_json_has_the_documented_keys_and_sorted_assignments() -> None:
    instance = make_instance(
        {"b": 8, "a": 8},
        {"r2": (2, 1), "r1": (2, 1)},
        [("b", "r2", 1, 0.5), ("a", "r2", 1, 0.5), ("b", "r1", 1, 0.5), ("a", "r1", 1, 0.5)],
    )
    data = plan_to_json(solve(instance))
    assert set(data) == {"assignments", "coverage", "score", "bound", "optimal", "seconds", "stats"}
    assert set(data["bound"]) == {"coverage", "score"}
    assert data["assignments"] == [
        {"volunteer": v, "request": r} for r, v in [("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")]
    ]
    assert (data["coverage"], data["score"], data["bound"]["coverage"], data["optimal"]) == (4, 2.0, 4, True)


def test_forcing_the_flow_path_on_a_knapsack_is_refused() -> None:
    instance = make_instance({"v1": 5}, {"a": (1, 1), "b": (1, 1)}, [("v1", "a", 3, 0), ("v1", "b", 2.5, 0)])
    with pytest.raises(ValueError, match="knapsack"):
        solve(instance, path="flow")


@pytest.mark.parametrize("limit", [0, -1, float("nan"), float("inf")])
def test_time_limit_must_be_positive(limit: float) -> None:
    with pytest.raises(ValueError, match="time_limit"):
        solve(make_instance({}, {}, []), limit)


def test_assignment_is_a_plain_value() -> None:
    assert Assignment("v1", "r1") == Assignment("v1", "r1")
