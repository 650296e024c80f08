"""The matching benchmark, small: generator → eligibility → solver → greedy, so that it cannot rot.

Structural facts only (no timings): the fast eligibility agrees with vetting.rules on every pair,
both plans keep every hard rule, the solver covers at least what the sign-up sheet does, the
instance round-trips through its JSON shape, and the command prints its rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench import matching as bench
from bench.eligibility import MINUTES_PER_KM, VettingTable, build_candidates, request_classes, ward_distances
from bench.generator import (
    NO_DATE,
    SLOT,
    STATES,
    WORDS,
    deployment_window,
    extra_skills,
    generate_week,
    person_facts,
    task_policy,
)
from bench.greedy import greedy_plan, warm_start
from matching.solver import partition
from matching.solver import plan as solver
from matching.solver.components import decompose, value
from matching.solver.heuristics import greedy, improve
from matching.solver.instance import instance_to_dict, parse_instance
from matching.solver.plan import solve
from tests.unit.matching import broken_rules, random_instance
from vetting.lifecycle import ClearanceState
from vetting.rules import check_eligibility


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _available(week, v: int, r: int) -> bool:
    """Every half-hour of the window is in the volunteer's weekly pattern (read bit by bit)."""
    mask = sum(int(word) << (64 * w) for w, word in enumerate(week.availability[v][:WORDS]))
    return all(mask >> s & 1 for s in range(week.start[r] // SLOT, week.end[r] // SLOT))


def _vetting_reference(week) -> np.ndarray:
    """check_eligibility on every (volunteer, request) pair: a bool matrix R × V."""
    people = [person_facts(week, v) for v in range(week.num_volunteers)]
    eligible = np.zeros((week.num_requests, week.num_volunteers), dtype=bool)
    for r in range(week.num_requests):
        task, window, extra = task_policy(week, r), deployment_window(week, r), extra_skills(week, r)
        supervised = bool(week.supervised[r])
        for v, person in enumerate(people):
            eligible[r, v] = check_eligibility(person, task, window, supervised=supervised, extra_skills=extra).eligible
    return eligible


def _reference_pairs(week, eligible: np.ndarray) -> dict[tuple[int, int], float]:
    """(volunteer, request) → km for every pair the vetting rules allow that also passes the place
    and time rules: available for the whole window, no declared conflict with the ward, within the
    travel limit (remote requests need no travel; remote-only volunteers take only those)."""
    pairs = {}
    for r, v in zip(*np.nonzero(eligible), strict=True):
        r, v = int(r), int(v)
        if not _available(week, v, r) or week.conflict_ward[v] == week.ward[r]:
            continue
        if week.remote[r]:
            pairs[(v, r)] = 0.0
            continue
        if week.adjustment[v] == 2:
            continue
        home, ward = week.wards[week.home_ward[v]], week.wards[week.ward[r]]
        km = _haversine_km(home.latitude, home.longitude, ward.latitude, ward.longitude)
        if km <= week.travel_km[v] + 1e-4:
            pairs[(v, r)] = km
    return pairs


@pytest.mark.parametrize("seed", [3, 4])
def test_fast_eligibility_gives_exactly_the_pairs_of_the_vetting_rules(seed: int) -> None:
    week = generate_week(600, 120, seed=seed)
    # The week really exercises the date rules: clearances lapse and renewals start mid-week.
    active = {ClearanceState.GRANTED, ClearanceState.RENEWAL_DUE}
    lapsing = [(STATES[s] in active and 0 <= u < 6) for s, u in zip(week.clr_state, week.clr_until, strict=True)]
    assert any(lapsing)
    assert (week.mobilised_first != NO_DATE).any()
    eligible = _vetting_reference(week)
    assert 1000 < eligible.sum() < eligible.size
    # Step 1, vetting only: one class of requests at a time over the whole population.
    table = VettingTable(week)
    classes, keys = request_classes(week, np.arange(week.num_requests))
    fast = np.stack([table.eligible(*keys[c]) for c in classes])
    assert np.array_equal(fast, eligible)
    # Step 2, with place and time: exactly the same pairs, distances and loads.
    candidates = build_candidates(week)
    reference = _reference_pairs(week, eligible)
    assert {(int(v), int(r)) for v, r in zip(candidates.volunteer, candidates.request, strict=True)} == set(reference)
    assert len(reference) > 50
    for v, r, km, load in zip(
        candidates.volunteer.tolist(),
        candidates.request.tolist(),
        candidates.distance_km.tolist(),
        candidates.load.tolist(),
        strict=True,
    ):
        assert km == pytest.approx(reference[(v, r)], abs=1e-3)
        assert load == week.end[r] - week.start[r] + round(2 * km * MINUTES_PER_KM)


def test_generator_is_deterministic_for_a_seed() -> None:
    first, second = generate_week(300, 50, seed=1), generate_week(300, 50, seed=1)
    other = generate_week(300, 50, seed=2)
    for name in ("home_ward", "availability", "clr_until", "sk_skill", "start", "task", "level"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert not np.array_equal(first.home_ward, other.home_ward)
    assert len(first.wards) >= 600
    assert ward_distances(first).shape == (len(first.wards), len(first.wards))


def test_both_plans_keep_every_rule_and_the_solver_covers_at_least_the_sign_up_sheet() -> None:
    week = generate_week(200, 60, seed=5)
    built = bench.build(week)
    plan = solve(built.instance, time_limit=5)
    assert not broken_rules(built.instance, plan)
    chosen = bench.plan_pairs(week, built.candidates, plan)
    assert bench.broken_rules(week, built.candidates, chosen) == []
    baseline = greedy_plan(week, built.candidates)
    assert bench.broken_rules(week, built.candidates, baseline) == []
    assert bench.broken_rules(week, built.candidates, warm_start(week, built.candidates)) == []
    mine = bench.plan_figures(week, built.candidates, chosen)
    theirs = bench.plan_figures(week, built.candidates, baseline)
    assert mine["coverage"] >= theirs["coverage"]
    assert plan.bound_coverage >= plan.coverage


def test_the_instance_round_trips_through_its_json_shape(tmp_path: Path) -> None:
    week = generate_week(200, 60, seed=6)
    built = bench.build(week)
    assert parse_instance(instance_to_dict(built.instance)) == built.instance
    path = tmp_path / "week.json"
    bench.main(
        ["--volunteers", "200", "--requests", "60", "--seed", "6", "--time-limit", "2", "--write-instance", str(path)]
    )
    assert parse_instance(json.loads(path.read_text())) == built.instance


def test_the_command_prints_a_header_and_one_row_per_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--volunteers", "200", "--requests", "60", "--time-limit", "2", "--replan", "--rematch"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    header, row = lines[0].split(), lines[1].split()
    assert header[:3] == ["run", "size", "seed"] and "cov_x" in header and "calm_moved" in header
    assert len(row) == len(header) and row[1] == "200x60"


def test_a_re_match_after_a_decline_fills_the_place_with_someone_free() -> None:
    week = generate_week(300, 60, seed=7)
    built = bench.build(week)
    chosen = bench.plan_pairs(week, built.candidates, solve(built.instance, time_limit=2))
    offers = bench._Offers(week)
    for p in chosen.tolist():
        offers.add(int(built.candidates.volunteer[p]), int(built.candidates.request[p]), int(built.candidates.load[p]))
    p = int(chosen[0])
    v, r = int(built.candidates.volunteer[p]), int(built.candidates.request[p])
    offers.remove(v, r)
    found = bench.rematch_one(week, offers, declined=v, request=r)
    if found is not None:
        assert found[0] != v and found[1] == r
        assert not offers.clashes(found[0], r)
        assert offers.used[found[0]] + found[2] <= week.cap_minutes[found[0]]


# --- solver additions the benchmark relies on ----------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_the_local_search_keeps_every_rule_and_coverage_and_never_lowers_the_score(seed: int) -> None:
    for component in decompose(random_instance(seed, max_pairs=16)).components:
        start = greedy(component)
        better = improve(component, start)
        assert value(component, better)[0] == value(component, start)[0]
        assert value(component, better)[1] >= value(component, start)[1]
        count = np.bincount(np.array(component.pair_request, dtype=np.int64)[better], minlength=len(component.needed))
        assert all(c <= n for c, n in zip(count, component.needed, strict=True))
        assert all(c in (0, n) for c, n, s in zip(count, component.needed, component.all_or_nothing, strict=True) if s)
        room = list(component.capacity)
        for p in better:
            room[component.pair_volunteer[p]] -= component.load[p]
        assert min(room, default=0) >= 0
        on = set(better)
        assert not any(a in on and b in on for a, b in component.clashes)


@pytest.mark.parametrize("seed", range(15))
def test_a_hint_is_a_floor_and_a_bad_hint_is_refused(seed: int) -> None:
    instance = random_instance(seed, max_pairs=14)
    hint_plan = solve(instance, time_limit=0.001, path="cpsat")
    hint = [(a.volunteer, a.request) for a in hint_plan.assignments]
    plan = solve(instance, time_limit=2, hint=hint)
    assert not broken_rules(instance, plan)
    assert (plan.coverage, plan.score) >= (hint_plan.coverage, hint_plan.score)
    with pytest.raises(ValueError, match="hint"):
        solve(instance, hint=[("nobody", "nothing")])


def test_a_huge_component_is_improved_part_by_part_and_keeps_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    week = generate_week(1500, 400, seed=8)
    built = bench.build(week)
    monkeypatch.setattr(solver, "HUGE_PAIRS", 300)
    monkeypatch.setattr(solver, "PART_PAIRS", 150)
    plan = solve(built.instance, time_limit=5, hint=built.hint)
    assert plan.stats["huge_components"] >= 1 and plan.stats["parts"] > 1
    assert not broken_rules(built.instance, plan)
    chosen = bench.plan_pairs(week, built.candidates, plan)
    hinted = bench._value(
        week,
        built.candidates,
        np.array(
            [
                i
                for i, key in enumerate(
                    zip(built.candidates.volunteer.tolist(), built.candidates.request.tolist(), strict=True)
                )
                if (week.volunteer_ids[key[0]], week.request_ids[key[1]]) in set(built.hint)
            ],
            dtype=np.int64,
        ),
        built.candidates.score,
    )
    assert bench.plan_figures(week, built.candidates, chosen)["coverage"] >= hinted[0]
    assert plan.bound_coverage >= plan.coverage and plan.bound_score >= plan.score
    assert partition.HUGE_IMPROVE_WORK > 0


@pytest.mark.parametrize("seed", range(4))
def test_the_lp_bound_bounds_the_proven_optimum_and_is_no_looser_than_the_trivial_bound(seed, tmp_path, capsys):
    from bench import lp_bound
    from matching.solver.components import trivial_bounds
    from tests.unit.matching.test_determinism import borough_week

    instance = borough_week(seed, volunteers=120, requests=60)
    plan = solve(instance, time_limit=20)
    assert plan.optimal  # small enough to prove, so the bound must not fall below it
    components = decompose(instance).components
    bound = sum(math.floor(lp_bound.lp_bound(c) + 0.5) for c in components)
    assert plan.coverage <= bound <= sum(trivial_bounds(c)[0] for c in components)
    # Every clash lies in some clique of the cover, and every clique's pairs pairwise clash.
    for component in components:
        clashing = set(component.clashes)
        cliques = lp_bound.edge_clique_cover(component)
        covered = {(min(a, b), max(a, b)) for clique in cliques for i, a in enumerate(clique) for b in clique[i + 1 :]}
        assert covered == clashing
    # The command, on the instance's JSON.
    path = tmp_path / "week.json"
    path.write_text(json.dumps(instance_to_dict(instance)), encoding="utf-8")
    lp_bound.main([str(path), "--coverage", str(plan.coverage)])
    out = capsys.readouterr().out
    assert f"LP bound on coverage: {bound:,}" in out and "below the LP bound" in out
    assert "Lagrangian bound on coverage: " in out and "below the Lagrangian bound" in out
