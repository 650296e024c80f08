"""Local first (issue #23) against brute force on small instances with wards, panels and priorities.

The reference below states the rule independently of matching/solver/local_first.py: a panel member
``v`` on a request ``o`` outside their panel wards breaks it when moving ``v`` from ``o`` to a request
``r`` of one of their panel wards, of priority at least ``o``'s, gives a valid plan (``o``'s whole team
dropped if it is all-or-nothing). A valid plan is checked by the shared ``broken_rules``, so "short",
"free" and "all-or-nothing" need no second statement here.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from matching.solver import partition
from matching.solver import plan as plan_module
from matching.solver.__main__ import main
from matching.solver.instance import Instance, InstanceError, Pair, Request, Volunteer, instance_to_dict, parse_instance
from matching.solver.local_first import elsewhere, local_first_violations, repair, ring_fence
from matching.solver.plan import Assignment, Plan, solve
from tests.unit.matching import broken_rules, plan_value

WARDS = ("A", "B", "C")
PRIORITIES = (1, 1, 3, 9)  # routine, priority, urgent as the product weighs them
URGENT = 9


def panel_instance(seed: int, *, max_pairs: int = 11, flow_only: bool = False, tempting: bool = False) -> Instance:
    """A small random instance with wards, panels (some volunteers on none, some on two), a ring-fenced
    ward now and then, teams, clashes and knapsacks (unless ``flow_only``). ``tempting`` scores every pair
    outside the volunteer's panel wards 3 points higher, with mostly routine requests, fewer volunteers,
    less time, fewer teams, more clashes and no ring-fence, so that optimal plans without the rule send
    panel members elsewhere on ties of coverage and the repair has work to do."""
    rnd = random.Random(seed)
    volunteers = []
    for k in range(rnd.randint(1, 3) if tempting else rnd.randint(2, 4)):
        panels = frozenset(rnd.sample(WARDS, rnd.choice((0, 1, 1, 1, 2))))
        volunteers.append(Volunteer(f"v{k}", rnd.choice([1, 2] if tempting else [1, 2, 3, 4, 6]), panels))
    requests = []
    for k in range(rnd.randint(2, 5)):
        priority = 1 if tempting and rnd.random() < 0.7 else rnd.choice(PRIORITIES)
        needed = rnd.choice((1, 1, 2))
        requests.append(
            Request(
                f"r{k}",
                needed,
                priority,
                all_or_nothing=not flow_only and needed > 1 and rnd.random() < (0.2 if tempting else 0.5),
                ward=rnd.choice((*WARDS, None)) if rnd.random() < 0.95 else None,
                urgent=priority == URGENT,
            )
        )
    every = list(itertools.product([v.id for v in volunteers], [r.id for r in requests]))
    chosen = sorted(rnd.sample(every, min(len(every), rnd.randint(2, max_pairs))))
    own_load = {v.id: 1 if tempting else rnd.choice([1, 2]) for v in volunteers}
    panels = {v.id: v.panel_wards for v in volunteers}
    wards = {r.id: r.ward for r in requests}
    pairs = tuple(
        Pair(
            v,
            r,
            own_load[v] if flow_only or tempting else rnd.choice([1, 1, 2, 3]),
            round(rnd.uniform(-0.5, 3) + (3 if tempting and panels[v] and wards[r] not in panels[v] else 0), 3),
        )
        for v, r in chosen
    )
    clashes = (
        ()
        if flow_only
        else tuple(
            c for c in itertools.combinations([r.id for r in requests], 2) if rnd.random() < (0.7 if tempting else 0.3)
        )
    )
    fenced = frozenset(w for w in WARDS if rnd.random() < 0.25 and not tempting)
    return Instance(tuple(volunteers), tuple(requests), pairs, clashes, fenced)


def as_plan(assignments) -> Plan:
    return Plan(tuple(Assignment(v, r) for v, r in assignments), 0, 0.0, 0, 0.0, False, 0.0)


def reference_violations(instance: Instance, assignments) -> set[tuple[str, str, str | None, str]]:
    """(volunteer, outside, local or None, kind) for every breach, by the plain statement of the rule."""
    chosen = set(assignments)
    panels = {v.id: v.panel_wards for v in instance.volunteers}
    requests = {r.id: r for r in instance.requests}
    listed = {(p.volunteer, p.request) for p in instance.pairs}
    found = set()
    for v, o in chosen:
        if not panels[v] or requests[o].ward in panels[v]:
            continue
        if panels[v] & instance.ring_fenced and not requests[o].urgent:
            found.add((v, o, None, "ring_fence"))
        team = {(w, q) for w, q in chosen if q == o} if requests[o].all_or_nothing else {(v, o)}
        for r in requests.values():
            if r.ward not in panels[v] or r.priority < requests[o].priority or (v, r.id) not in listed:
                continue
            if (v, r.id) in chosen:
                continue
            moved = (chosen - team) | {(v, r.id)}
            if not broken_rules(instance, as_plan(moved)):
                found.add((v, o, r.id, "local_first"))
    return found


def found_by_module(instance: Instance, assignments) -> set[tuple[str, str, str | None, str]]:
    return {(x.volunteer, x.outside, x.local, x.kind) for x in local_first_violations(instance, assignments)}


def valid_plans(instance: Instance):
    pairs = instance.pairs
    for mask in range(1 << len(pairs)):
        chosen = [(pairs[i].volunteer, pairs[i].request) for i in range(len(pairs)) if mask >> i & 1]
        if not broken_rules(instance, as_plan(chosen)):
            yield chosen


def best_keeping_the_rule(instance: Instance) -> tuple[int, int]:
    """The lexicographic optimum among the valid plans that keep local first and the ring-fences."""
    return max(
        plan_value(instance, as_plan(chosen))
        for chosen in valid_plans(instance)
        if not reference_violations(instance, chosen)
    )


# ---- The checker is the rule ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_the_checker_agrees_with_the_plain_rule_on_every_valid_plan(seed):
    instance = panel_instance(seed, max_pairs=9)
    plans = list(valid_plans(instance))
    assert plans  # the empty plan at least
    for chosen in plans:
        assert found_by_module(instance, chosen) == reference_violations(instance, chosen), chosen


def test_the_random_instances_break_the_rule_often_enough_to_test_it():
    broken = sum(
        bool(reference_violations(instance, chosen))
        for seed in range(60)
        for instance in [panel_instance(seed, max_pairs=9)]
        for chosen in valid_plans(instance)
    )
    assert broken >= 150


# ---- The repair keeps every rule and ends, from any valid plan ------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_repair_turns_every_valid_plan_into_one_that_keeps_the_rule(seed):
    instance, _ = ring_fence(panel_instance(seed, max_pairs=9))
    for chosen in valid_plans(instance):
        fixed = repair(instance, chosen)
        assert not broken_rules(instance, as_plan(fixed.assignments)), (chosen, fixed)  # teams stay whole
        assert not reference_violations(instance, fixed.assignments), (chosen, fixed)
        assert (fixed.coverage, fixed.score_milli) == plan_value(instance, as_plan(fixed.assignments))
        if not reference_violations(instance, chosen):
            assert sorted(fixed.assignments) == sorted(chosen)  # a plan that keeps the rule is left alone


# ---- Every solver path keeps it -------------------------------------------------------------------


def _check(instance: Instance, path: str) -> Plan:
    plan = solve(instance, time_limit=5, path=path)
    chosen = [(a.volunteer, a.request) for a in plan.assignments]
    assert not broken_rules(instance, plan)
    assert not reference_violations(instance, chosen), f"path {path}: {chosen}"
    assert (plan.coverage, round(plan.score * 1000)) == plan_value(instance, plan)
    best = best_keeping_the_rule(instance)
    assert plan.bound_coverage >= best[0]  # the bound without the rule still bounds the plans with it
    assert plan.coverage <= best[0]
    if plan.optimal:  # an optimum of the instance without the rule that keeps it is an optimum with it
        assert (plan.coverage, round(plan.score * 1000)) == best
    return plan


@pytest.mark.parametrize("seed", range(80))
def test_automatic_paths_keep_local_first(seed):
    _check(panel_instance(1000 + seed, tempting=seed % 2 == 0), "auto")


@pytest.mark.parametrize("seed", range(80))
def test_cpsat_path_keeps_local_first(seed):
    _check(panel_instance(2000 + seed, tempting=seed % 2 == 0), "cpsat")


@pytest.mark.parametrize("seed", range(60))
def test_flow_path_keeps_local_first(seed):
    _check(panel_instance(3000 + seed, flow_only=True, tempting=seed % 2 == 0), "flow")


@pytest.mark.parametrize("seed", range(12))
def test_huge_component_path_keeps_local_first_in_threads_and_in_worker_processes(monkeypatch, seed):
    """The partition path (greedy start, parts, augment, improve), made to take these small instances;
    the parts of odd seeds are solved in the forked worker pool."""
    monkeypatch.setattr(plan_module, "HUGE_PAIRS", 4)
    monkeypatch.setattr(plan_module, "PART_PAIRS", 4)
    if seed % 2:
        monkeypatch.setattr(partition, "PROCESS_PAIRS", 0)
    plan = _check(panel_instance(4000 + seed, max_pairs=12, tempting=True), "cpsat")
    assert not plan.optimal or plan.stats["huge_components"] == 0


def test_the_paths_were_exercised_and_the_repair_had_work_to_do(monkeypatch):
    """Scored to tempt panel members elsewhere (no panel score term, as the product gives), optimal plans
    break the rule on ties of coverage, so the repair is exercised, not only the solvers."""
    moves = 0
    used = {"direct": 0, "flow": 0, "cpsat": 0}
    for seed in range(80):
        plan = solve(panel_instance(1000 + seed, tempting=seed % 2 == 0), time_limit=5)
        moves += plan.stats.get("local_first_moves", 0)
        for path, counts in plan.stats["paths"].items():
            used[path] += counts["components"]
    assert moves >= 5 and min(used.values()) >= 5, (moves, used)


# ---- Ring-fences ----------------------------------------------------------------------------------


def test_a_ring_fenced_panel_is_never_given_to_a_non_urgent_request_elsewhere():
    """Camden's panel member is the only one who could take Soho's priority request: not given it. An
    urgent one elsewhere may have them; so may a routine one at home, or in another of their panel wards."""
    instance = Instance(
        (Volunteer("v1", 10, frozenset({"camden", "kentish"})), Volunteer("v2", 10)),
        (
            Request("soho_priority", 1, 3, ward="soho"),
            Request("soho_urgent", 1, 9, ward="soho", urgent=True),
            Request("kentish_routine", 1, 1, ward="kentish"),
        ),
        (Pair("v1", "soho_priority", 1, 0), Pair("v1", "soho_urgent", 1, 0), Pair("v1", "kentish_routine", 1, 0)),
        (),
        frozenset({"camden"}),
    )
    for path in ("auto", "cpsat", "flow"):
        plan = solve(instance, path=path)
        assert {(a.volunteer, a.request) for a in plan.assignments} == {
            ("v1", "soho_urgent"),
            ("v1", "kentish_routine"),
        }
        assert plan.stats["ring_fence_pairs_dropped"] == 1
    # Not ring-fenced: the priority request elsewhere takes them too (nothing local is short).
    open_ward = Instance(instance.volunteers, instance.requests, instance.pairs)
    assert len(solve(open_ward).assignments) == 3


@pytest.mark.parametrize("seed", range(40))
def test_ring_fenced_panels_leave_only_for_urgent_requests_on_random_instances(seed):
    instance = panel_instance(5000 + seed)
    fenced = {v.id: v.panel_wards for v in instance.volunteers if v.panel_wards & instance.ring_fenced}
    requests = {r.id: r for r in instance.requests}
    for path in ("auto", "cpsat"):
        for a in solve(instance, time_limit=5, path=path).assignments:
            if a.volunteer in fenced and requests[a.request].ward not in fenced[a.volunteer]:
                assert requests[a.request].urgent


def test_a_hint_through_a_ring_fence_loses_those_pairs_and_the_rest_of_their_team():
    instance = Instance(
        (Volunteer("v1", 10, frozenset({"A"})), Volunteer("v2", 10)),
        (Request("team_b", 2, 1, all_or_nothing=True, ward="B"), Request("a", 1, 1, ward="A")),
        (Pair("v1", "team_b", 1, 0), Pair("v2", "team_b", 1, 0), Pair("v1", "a", 1, 0)),
        (),
        frozenset({"A"}),
    )
    plan = solve(instance, hint=[("v1", "team_b"), ("v2", "team_b")])
    assert [(a.volunteer, a.request) for a in plan.assignments] == [("v1", "a")]


# ---- The rule's own examples ----------------------------------------------------------------------


def _two_wards(local_priority: int, outside_priority: int, *, team: bool = False) -> Instance:
    """v1 sits on Camden's panel; Camden and Soho each want someone at the same time."""
    return Instance(
        (Volunteer("v1", 10, frozenset({"camden"})), Volunteer("v2", 10)),
        (
            Request("camden", 2 if team else 1, local_priority, all_or_nothing=team, ward="camden"),
            Request("soho", 1, outside_priority, ward="soho", urgent=outside_priority == URGENT),
        ),
        (Pair("v1", "camden", 2, 0.1), Pair("v1", "soho", 2, 1.9)) + ((Pair("v2", "camden", 2, 0),) if team else ()),
        (("camden", "soho"),),
    )


def test_an_equal_priority_request_elsewhere_does_not_take_a_local_volunteer():
    plan = solve(_two_wards(3, 3))  # the better score elsewhere loses to the ward's own request
    assert [(a.volunteer, a.request) for a in plan.assignments] == [("v1", "camden")]
    assert [v.local for v in local_first_violations(_two_wards(3, 3), [("v1", "soho")])] == ["camden"]


def test_an_urgent_request_elsewhere_may_take_a_local_volunteer_and_says_so():
    instance = _two_wards(1, URGENT)
    plan = solve(instance)
    chosen = [(a.volunteer, a.request) for a in plan.assignments]
    assert chosen == [("v1", "soho")]
    assert not local_first_violations(instance, chosen)
    assert [(e.request, e.volunteer, e.outside, e.reason) for e in elsewhere(instance, chosen)] == [
        ("camden", "v1", "soho", "higher")
    ]


def test_a_local_team_one_person_cannot_start_is_not_protected_and_the_reason_says_so():
    instance = _two_wards(3, 3, team=True)
    moved_out = [("v1", "soho")]
    assert not local_first_violations(instance, moved_out)  # two are needed together: v2 alone cannot
    assert [e.reason for e in elsewhere(instance, moved_out)] == ["team"]


def test_moving_out_of_a_team_elsewhere_drops_the_whole_team():
    instance = Instance(
        (Volunteer("v1", 10, frozenset({"camden"})), Volunteer("v2", 10)),
        (Request("camden", 1, 3, ward="camden"), Request("soho", 2, 1, all_or_nothing=True, ward="soho")),
        (Pair("v1", "camden", 1, 0), Pair("v1", "soho", 1, 0), Pair("v2", "soho", 1, 0)),
        (("camden", "soho"),),
    )
    fixed = repair(instance, [("v1", "soho"), ("v2", "soho")])
    assert fixed.assignments == [("v1", "camden")] and fixed.teams_dropped == 1


def test_a_member_busy_elsewhere_with_work_they_could_not_leave_is_reported_busy():
    # v1 on soho (routine) also holds camden_early; camden_late clashes with camden_early, not with soho.
    instance = Instance(
        (Volunteer("v1", 10, frozenset({"camden"})),),
        (
            Request("camden_early", 1, 1, ward="camden"),
            Request("camden_late", 1, 1, ward="camden"),
            Request("soho", 1, 1, ward="soho"),
        ),
        (Pair("v1", "camden_early", 1, 0), Pair("v1", "camden_late", 1, 0), Pair("v1", "soho", 1, 0)),
        (("camden_early", "camden_late"),),
    )
    chosen = [("v1", "camden_early"), ("v1", "soho")]
    assert not local_first_violations(instance, chosen)
    assert [(e.request, e.reason) for e in elsewhere(instance, chosen)] == [("camden_late", "busy")]


# ---- The format -----------------------------------------------------------------------------------


def test_the_local_first_fields_go_through_json_and_are_optional():
    instance = _two_wards(1, URGENT)
    fenced = Instance(instance.volunteers, instance.requests, instance.pairs, instance.clashes, frozenset({"camden"}))
    data = instance_to_dict(fenced)
    assert data["volunteers"][0]["panel_wards"] == ["camden"] and "panel_wards" not in data["volunteers"][1]
    assert data["requests"][1]["ward"] == "soho" and data["requests"][1]["urgent"] is True
    assert "urgent" not in data["requests"][0] and data["ring_fenced"] == ["camden"]
    assert parse_instance(json.loads(json.dumps(data))) == fenced
    plain = instance_to_dict(Instance(instance.volunteers[1:], (), ()))
    assert plain == {"volunteers": [{"id": "v2", "capacity": 10}], "requests": [], "pairs": [], "clashes": []}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ring_fenced": "A"}, "'ring_fenced' must be a list"),
        ({"ring_fenced": [""]}, "ring_fenced: a ward id must be a non-empty string"),
        ({"volunteers": [{"id": "v1", "capacity": 1, "panel_wards": "A"}]}, "panel_wards must be a list"),
        ({"volunteers": [{"id": "v1", "capacity": 1, "panel_wards": [3]}]}, "a ward id must be a non-empty string"),
        ({"requests": [{"id": "r1", "needed": 1, "priority": 1, "ward": 7}]}, "ward must be a non-empty string"),
        ({"requests": [{"id": "r1", "needed": 1, "priority": 1, "urgent": "yes"}]}, "urgent must be true or false"),
    ],
)
def test_bad_local_first_fields_are_refused_with_a_message(change, message):
    data = {"volunteers": [], "requests": [], "pairs": []} | change
    with pytest.raises(InstanceError, match=message):
        parse_instance(data)


def test_the_command_line_solves_with_panels(tmp_path, capsys):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(instance_to_dict(_two_wards(3, 3))))
    assert main([str(source), "--workers", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["assignments"] == [{"volunteer": "v1", "request": "camden"}]
    assert out["stats"]["local_first_moves"] >= 0
