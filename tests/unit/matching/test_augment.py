"""heuristics.augment: free places filled by short moves, every rule kept, coverage never lower."""

from __future__ import annotations

import random

import pytest

from matching.solver import heuristics
from matching.solver.components import decompose, value
from matching.solver.heuristics import augment, greedy
from tests.unit.matching import make_instance
from tests.unit.matching.test_partition import _largest, _valid, tight_week


def _component(instance):
    (component,) = decompose(instance).components
    return component


def _plan(component, *names: tuple[str, str]) -> list[int]:
    """Pair indices of (volunteer, request) names."""
    index = {
        (component.volunteer_ids[v], component.request_ids[r]): p
        for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True))
    }
    return sorted(index[name] for name in names)


def _names(component, plan: list[int]) -> set[tuple[str, str]]:
    return {
        (component.volunteer_ids[component.pair_volunteer[p]], component.request_ids[component.pair_request[p]])
        for p in plan
    }


def test_a_busy_candidate_hands_their_place_on_to_someone_free():
    # Only v can take the urgent visit; v is on the routine session at the same time, which u could take.
    component = _component(
        make_instance(
            {"v": 4, "u": 4},
            {"visit": (1, 9), "session": (1, 1)},
            [("v", "visit", 1, 0.5), ("v", "session", 1, 0.9), ("u", "session", 1, 0.1)],
            [("visit", "session")],
        )
    )
    start = _plan(component, ("v", "session"))
    assert _names(component, augment(component, start)) == {("v", "visit"), ("u", "session")}


@pytest.mark.parametrize("links", [1, 2, 3])
def test_a_place_is_handed_along_a_chain(links):
    # v0 alone can take the visit; v0's place goes to v1, v1's to v2, …, and the last volunteer is free.
    # All places are worth the same, so none may be given up for another: only the whole chain fills it.
    tasks = [f"t{k}" for k in range(links + 1)]
    people = [f"v{k}" for k in range(links + 1)]
    pairs = [("v0", "visit", 1, 0.5)]
    for k in range(links):
        pairs += [(people[k], tasks[k], 1, 0.9), (people[k + 1], tasks[k], 1, 0.1)]
    clashes = [("visit", "t0")] + [(tasks[k], tasks[k + 1]) for k in range(links - 1)]
    component = _component(
        make_instance(dict.fromkeys(people, 4), {"visit": (1, 3)} | {t: (1, 3) for t in tasks[:links]}, pairs, clashes)
    )
    start = _plan(component, *[(people[k], tasks[k]) for k in range(links)])
    after = augment(component, start)
    assert _names(component, after) == {("v0", "visit")} | {(people[k + 1], tasks[k]) for k in range(links)}


def test_a_chain_may_end_in_a_cheaper_place_given_up():
    # Nobody is free for w's routine class: giving it up (1) pays for the visit (3), where giving up v's
    # session (3) would not.
    component = _component(
        make_instance(
            {"v": 4, "w": 4},
            {"visit": (1, 3), "session": (1, 3), "class": (1, 1)},
            [("v", "visit", 1, 0.5), ("v", "session", 1, 0.9), ("w", "session", 1, 0.1), ("w", "class", 1, 0.9)],
            [("visit", "session"), ("session", "class")],
        )
    )
    after = augment(component, _plan(component, ("v", "session"), ("w", "class")))
    assert _names(component, after) == {("v", "visit"), ("w", "session")}


def test_a_chain_never_comes_back_to_a_volunteer_it_has_moved():
    # The class could go back to v as the plan stands (v has room, class and session do not clash), but
    # v is taking the visit, which clashes with the class: that chain must not be made.
    component = _component(
        make_instance(
            {"v": 4, "w": 4},
            {"visit": (1, 9), "session": (1, 3), "class": (1, 3)},
            [
                ("v", "visit", 1, 0.5),
                ("v", "session", 1, 0.9),
                ("w", "session", 1, 0.1),
                ("w", "class", 1, 0.9),
                ("v", "class", 1, 0.1),
            ],
            [("visit", "session"), ("session", "class"), ("visit", "class")],
        )
    )
    after = augment(component, _plan(component, ("v", "session"), ("w", "class")))
    assert _valid(component, after)
    # The best it can do: v gives the session up for the visit (9 for 3), w keeps the class.
    assert _names(component, after) == {("v", "visit"), ("w", "class")}


def test_a_place_is_given_up_only_for_a_more_valuable_one():
    instance = make_instance(
        {"v": 4},
        {"visit": (1, 9), "session": (1, 1)},
        [("v", "visit", 1, 0.5), ("v", "session", 1, 0.9)],
        [("visit", "session")],
    )
    component = _component(instance)
    assert _names(component, augment(component, _plan(component, ("v", "session")))) == {("v", "visit")}
    # The other way round (the routine place empty, the urgent one taken) nothing moves.
    assert _names(component, augment(component, _plan(component, ("v", "visit")))) == {("v", "visit")}


def test_capacity_is_freed_by_handing_a_place_on():
    # v has room for one 3-hour task; the urgent one needs them, the routine one can go to u.
    component = _component(
        make_instance(
            {"v": 3, "u": 3},
            {"urgent": (1, 9), "routine": (1, 1)},
            [("v", "urgent", 3, 0.5), ("v", "routine", 3, 0.9), ("u", "routine", 3, 0.1)],
        )
    )
    plan = augment(component, _plan(component, ("v", "routine")))
    assert _names(component, plan) == {("v", "urgent"), ("u", "routine")}


def test_a_team_is_filled_whole_by_moves_or_not_at_all():
    requests = {"team": (2, 3, True), "single": (1, 3), "other": (1, 3)}
    pairs = [
        ("a", "team", 1, 0.5),
        ("b", "team", 1, 0.5),
        ("b", "single", 1, 0.5),
        ("c", "single", 1, 0.5),
        ("a", "other", 1, 0.5),
    ]
    clashes = [("team", "single"), ("team", "other")]
    component = _component(make_instance({"a": 4, "b": 4, "c": 4}, requests, pairs, clashes))
    # b's single place can go to c, so the team gets a and b: 2 x 3 instead of the 3 of "other".
    start = _plan(component, ("b", "single"), ("a", "other"))
    # a gives up "other" (3) and b hands "single" on: the team adds 6, gives up 3.
    assert _names(component, augment(component, start)) == {("a", "team"), ("b", "team"), ("c", "single")}
    # Without c, b could only give "single" up too: 6 for 6 is no gain, and the moves made are undone.
    component = _component(make_instance({"a": 4, "b": 4}, requests, pairs[:3] + pairs[4:], clashes))
    start = _plan(component, ("b", "single"), ("a", "other"))
    assert _names(component, augment(component, start)) == {("b", "single"), ("a", "other")}


def tight_week_with_teams(seed: int):
    """tight_week's kind of week, a third of its requests teams of two or three."""
    rnd = random.Random(seed)
    capacity = {f"v{i:02}": rnd.choice([2, 3, 4]) for i in range(30)}
    spec = {
        f"r{j:02}": rnd.choice([(1, 1, False), (1, 3, False), (2, 3, True), (3, 1, True), (2, 9, False)])
        for j in range(60)
    }
    pairs = {(v, rnd.choice(list(spec))) for v in capacity for _ in range(10)}
    rows = [(v, r, rnd.choice([1, 1.5, 2]), round(rnd.uniform(0, 1), 3)) for v, r in sorted(pairs)]
    clashes = {tuple(sorted(rnd.sample(list(spec), 2))) for _ in range(400)}
    return make_instance(capacity, spec, rows, sorted(clashes))


@pytest.mark.parametrize("week", [tight_week, tight_week_with_teams])
@pytest.mark.parametrize("seed", range(20))
def test_every_rule_is_kept_and_coverage_never_falls(seed, week):
    rnd = random.Random(seed)
    for component in decompose(week(seed)).components:
        # From the greedy plan, and from a thinner valid plan (every other pair of it dropped, teams whole).
        greedy_plan = greedy(component)
        teams = {component.pair_request[p] for p in greedy_plan if component.all_or_nothing[component.pair_request[p]]}
        thin = [p for p in greedy_plan if component.pair_request[p] in teams or rnd.random() < 0.5]
        for start in (greedy_plan, thin, []):
            assert _valid(component, start)
            after = augment(component, start)
            assert _valid(component, after)
            assert value(component, after)[0] >= value(component, start)[0]
        assert value(component, augment(component, thin))[0] > value(component, thin)[0] or thin == greedy_plan


def test_ranked_options_are_built_once_per_component_and_best_score_first():
    component = _largest(0)
    first = heuristics._ranked_options(component)
    assert heuristics._ranked_options(component) is first  # augment, then improve: one build
    for r, options in enumerate(first):
        assert sorted(options) == [p for p, q in enumerate(component.pair_request) if q == r]
        assert options == sorted(options, key=lambda p: (-component.score[p], p))
