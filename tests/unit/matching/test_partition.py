"""Huge components: the bound computed beside the search, and the split into parts."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import deque

import numpy as np
import pytest

from matching.solver import partition
from matching.solver.components import Component, decompose, value
from matching.solver.cpsat import Budget, solve_cpsat
from matching.solver.heuristics import greedy, improve
from matching.solver.relaxation import relaxation_bounds
from tests.unit.matching import make_instance
from tests.unit.matching.test_determinism import borough_week


def _largest(seed: int):
    instance = borough_week(seed, volunteers=120, requests=60)
    return max(decompose(instance).components, key=lambda c: c.num_pairs)


@pytest.mark.parametrize("seed", range(3))
def test_the_bound_from_a_process_of_its_own_is_the_relaxation_bound(seed):
    component = _largest(seed)
    assert partition.bounds_beside(component).result() == relaxation_bounds(component)


def test_the_bound_is_computed_here_when_no_process_can_be_started(monkeypatch):
    component = _largest(4)

    def refuse(self):
        raise OSError("no more processes")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refuse)
    bounds = partition.bounds_beside(component)
    assert bounds.process is None
    assert bounds.result() == relaxation_bounds(component)


def test_a_cancelled_bound_leaves_no_process_behind():
    bounds = partition.bounds_beside(_largest(5))
    bounds.cancel()
    assert bounds.process is None or not bounds.process.is_alive()


def reference_split(component, part_pairs, seeds=None):
    """split() as it was before the small parts kept their member lists (scanning every request)."""
    num_r = len(component.request_ids)
    pairs_of_request = [[] for _ in range(num_r)]
    requests_of_volunteer = [[] for _ in component.volunteer_ids]
    for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True)):
        pairs_of_request[r].append(p)
        requests_of_volunteer[v].append(r)
    part = [-1] * num_r
    sizes = []
    for seed in range(num_r) if seeds is None else seeds:
        if part[seed] >= 0:
            continue
        label, size = len(sizes), 0
        queue = deque([seed])
        part[seed] = label
        while queue and size < part_pairs:
            r = queue.popleft()
            size += len(pairs_of_request[r])
            for p in pairs_of_request[r]:
                for other in requests_of_volunteer[component.pair_volunteer[p]]:
                    if part[other] < 0:
                        part[other] = label
                        queue.append(other)
        for r in queue:
            part[r] = -1
        sizes.append(size)
    for label in sorted(range(len(sizes)), key=lambda k: (sizes[k], k)):
        if sizes[label] >= part_pairs // 4 or len(sizes) == 1:
            continue
        shared = {}
        for r in (r for r in range(num_r) if part[r] == label):
            for p in pairs_of_request[r]:
                for other in requests_of_volunteer[component.pair_volunteer[p]]:
                    if part[other] != label:
                        shared[part[other]] = shared.get(part[other], 0) + 1
        if not shared:
            continue
        target = max(shared, key=lambda k: (shared[k], k))
        for r in range(num_r):
            if part[r] == label:
                part[r] = target
        sizes[target] += sizes[label]
        sizes[label] = 0
    labels = np.array([part[r] for r in component.pair_request], dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(sizes) + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(len(sizes)) if bounds[k + 1] > bounds[k]]


@pytest.mark.parametrize(("seed", "part_pairs"), [(s, n) for s in range(6) for n in (4, 10, 25)])
@pytest.mark.parametrize("shuffled", [False, True])
def test_split_gives_the_same_parts_as_before(seed, part_pairs, shuffled):
    component = _largest(seed)
    num_r = len(component.request_ids)
    seeds = random.Random(seed).sample(range(num_r), num_r) if shuffled else None
    got = partition.split(component, part_pairs, seeds)
    want = reference_split(component, part_pairs, seeds)
    assert [p.tolist() for p in got] == [p.tolist() for p in want]
    assert sorted(np.concatenate(got).tolist()) == list(range(component.num_pairs))


def test_later_passes_have_smaller_parts_across_the_first_and_the_rest_of_the_budget(monkeypatch):
    component = _largest(1)
    splits = partition._splits(component, 25, 0)
    assert partition.PASSES == ((1.0, 0.6, False), (0.4, 0.2, True), (0.4, 0.2, True))
    first, second, third = ([p.tolist() for p in parts] for parts in splits)
    assert first == [p.tolist() for p in partition.split(component, 25)]
    assert second != [p.tolist() for p in partition.split(component, 10)] != third != second  # shuffled anew
    assert [[p.tolist() for p in parts] for parts in partition._splits(component, 25, 0)] == [first, second, third]
    assert [[p.tolist() for p in parts] for parts in partition._splits(component, 25, 1)][1:] != [second, third]
    assert max(map(len, second)) < max(map(len, first))
    seen = []
    monkeypatch.setattr(
        partition,
        "solve_cpsat",
        lambda sub, budget, **options: seen.append(budget) or solve_cpsat(sub, budget, **options),
    )
    monkeypatch.setattr(partition, "greedy", lambda component: _poor_start(component))
    budget = Budget(deterministic=2.0, wall=30.0)
    _, counts = partition.solve_huge(component, budget, part_pairs=25)
    assert counts["parts"] == sum(map(len, splits))
    first_pass = [b.deterministic for b in seen[: len(first)]]
    # Every part of the first pass is solved from the poor start; its share is 0.6 of the budget.
    assert sum(first_pass) == pytest.approx(budget.deterministic * partition.PASSES[0][1])
    assert sum(b.deterministic for b in seen) <= budget.deterministic + 1e-9


def test_a_part_gets_wall_time_for_its_model_when_the_time_limit_is_spent(monkeypatch):
    # Deterministic time barely counts building a part's model and CP-SAT's presolve: a backstop in
    # proportion to the deterministic budget alone stopped parts on the clock, and plans differed.
    component = _largest(0)
    seen = []

    def recording(sub, budget, **options):
        seen.append((sub.num_pairs, budget))
        return solve_cpsat(sub, budget, **options)

    monkeypatch.setattr(partition, "solve_cpsat", recording)
    # Ten times the wall time per pair: what is checked is that a part's wall time follows its size, not
    # that 1 ms a pair is enough on a machine another test process is also using (it was not, under
    # `pytest -n 2`, and the second plan stopped on the clock).
    monkeypatch.setattr(partition, "PART_WALL_PER_PAIR", 10 * partition.PART_WALL_PER_PAIR)
    spent = Budget(deterministic=0.01, wall=0.0)
    # A poor start (one place filled), so that every part has something to gain and is solved.
    start = [next(p for p, r in enumerate(component.pair_request) if not component.all_or_nothing[r])]
    monkeypatch.setattr(partition, "greedy", lambda component: start)
    first, counts = partition.solve_huge(component, spent, part_pairs=25)
    assert len(seen) > 1 and counts["parts_stopped_by_clock"] == 0
    assert all(budget.wall >= pairs * partition.PART_WALL_PER_PAIR for pairs, budget in seen)
    assert not first.wall_limit_hit
    second, _ = partition.solve_huge(component, spent, part_pairs=25)
    assert first == second


@pytest.mark.parametrize("seed", range(3))
def test_no_worker_waits_for_a_part_while_parts_are_left(monkeypatch, seed):
    # From the greedy start many parts are already full: a round is filled from the parts that need a
    # model, so only the last round of a pass can hold fewer parts than there are workers.
    component = _largest(seed)
    calls = []
    real = partition._PartPool.solve
    monkeypatch.setattr(partition._PartPool, "solve", lambda self, jobs: calls.append(len(jobs)) or real(self, jobs))
    seen = []
    real_pass = partition._pass
    monkeypatch.setattr(partition, "_pass", lambda *args: seen.append(len(calls)) or real_pass(*args))
    outcome, counts = partition.solve_huge(component, Budget(deterministic=1.0, wall=30.0, workers=2), part_pairs=25)
    passes = [calls[start:end] for start, end in zip(seen, [*seen[1:], len(calls)], strict=True)]
    assert counts["parts_full"] > 0 and all(passes)
    assert all(jobs == 2 for rounds in passes for jobs in rounds[:-1])
    assert sum(map(sum, passes)) <= counts["parts"] - counts["parts_full"]
    assert _valid(component, outcome.chosen)


def test_a_lane_run_dry_takes_parts_from_the_far_end_of_another(monkeypatch):
    component = _largest(0)
    monkeypatch.setattr(partition, "greedy", lambda component: _poor_start(component))
    # Lanes of one part and of all the others: the second lane runs dry after its first round.
    monkeypatch.setattr(partition, "lanes", lambda num_parts, threads: [[0, *range(2, num_parts)], [1]])
    monkeypatch.setattr(partition, "PASSES", ((1.0, 1.0, False),))
    calls = []
    real = partition._PartPool.solve
    monkeypatch.setattr(partition._PartPool, "solve", lambda self, jobs: calls.append(len(jobs)) or real(self, jobs))
    outcome, counts = partition.solve_huge(component, Budget(deterministic=1.0, wall=30.0, workers=2), part_pairs=25)
    assert counts["parts"] > 4 and counts["parts_full"] == 0
    assert calls == [2] * (counts["parts"] // 2) + [1] * (counts["parts"] % 2)
    assert _valid(component, outcome.chosen)


def test_parts_that_cannot_gain_coverage_are_not_solved(monkeypatch):
    component = _largest(0)
    arrays = partition.ComponentArrays(component)
    splits = partition._splits(component, 25, 0)
    solved = []
    monkeypatch.setattr(
        partition,
        "solve_cpsat",
        lambda sub, budget, **options: solved.append(sub) or solve_cpsat(sub, budget, **options),
    )
    # Every request as full as its candidates allow (greedy fills this small week completely).
    plan = greedy(component)
    ceiling = sum(
        component.priority[r] * min(component.needed[r], int((arrays.pr == r).sum()))
        for r in range(len(component.request_ids))
    )
    assert value(component, plan)[0] == ceiling
    outcome, counts = partition.solve_huge(component, Budget(deterministic=1.0, wall=10.0), part_pairs=25, hint=plan)
    assert solved == [] and counts["parts_full"] == sum(map(len, splits)) and counts["parts_improved"] == 0
    assert value(component, outcome.chosen)[0] == ceiling


def _valid(component, plan: list[int]) -> bool:
    """Every rule of a component's plan: capacity, places, whole teams, clashes."""
    used: dict[int, int] = {}
    count: dict[int, int] = {}
    for p in plan:
        v, r = component.pair_volunteer[p], component.pair_request[p]
        used[v] = used.get(v, 0) + component.load[p]
        count[r] = count.get(r, 0) + 1
    chosen = set(plan)
    return (
        all(load <= component.capacity[v] for v, load in used.items())
        and all(
            n <= component.needed[r] and (not component.all_or_nothing[r] or n == component.needed[r])
            for r, n in count.items()
        )
        and not any(a in chosen and b in chosen for a, b in component.clashes)
    )


@pytest.mark.parametrize("seed", range(6))
def test_greedy_plans_keep_every_rule_and_a_kept_plan_stays(seed):
    component = _largest(seed)
    plain, by_score = greedy(component), greedy(component, best_scores_first=True)
    assert _valid(component, plain) and _valid(component, by_score)
    # A re-plan's start: half of a plan kept (whole teams), the free places filled around it.
    kept = sorted(p for p in by_score if component.pair_request[p] % 2 == 0)
    refilled = greedy(component, keep=kept)
    assert _valid(component, refilled) and set(kept) <= set(refilled)
    assert value(component, refilled)[0] >= value(component, kept)[0]


def test_parts_solved_at_the_same_time_fit_together():
    # Parts A (r1) and B (the rest) are solved at once, from the same plan. v0 is in both, so only A may
    # move v0 (v0 has room for one more place: A's r1 or B's r2, not both). In B, v0's pairs stay as they
    # are and still bind: r0's one place is taken, r4's team stays whole, and w's time is taken (w is in
    # r4's team with v0, and r5 overlaps r4). So B has nothing it may change, and A gives v0 r1.
    component = Component(
        volunteer_ids=["v0", "v1", "w"],
        request_ids=["r0", "r1", "r2", "r4", "r5"],
        capacity=[3_000, 10_000, 10_000],
        needed=[1, 1, 1, 2, 1],
        priority=[1, 1, 1, 1, 3],  # r5 is worth more than w's place in r4's team
        all_or_nothing=[False, False, False, True, False],
        #               p0 v0-r1  p1 v0-r0  p2 v1-r0  p3 v0-r2  p4 v0-r4  p5 w-r4  p6 w-r5
        pair_volunteer=[0, 0, 1, 0, 0, 2, 2],
        pair_request=[1, 0, 0, 2, 3, 3, 4],
        load=[1_000] * 7,
        score=[500] * 7,
        clashes=[(5, 6)],
        clash_array=np.array([[5, 6]]),
    )
    arrays = partition.ComponentArrays(component)
    on = np.zeros(7, dtype=bool)
    on[[1, 4, 5]] = True  # v0 on r0, and the team of r4
    parts = [np.array([0]), np.array([1, 2, 3, 4, 5, 6])]
    assert partition.lanes(len(parts), 2) == [[0], [1]]
    counts = dict.fromkeys(("parts", "parts_improved", "parts_full", "parts_stopped_by_clock"), 0)
    with partition._PartPool(2, processes=False) as pool:
        partition._pass(
            arrays, on, parts, Budget(deterministic=1.0, wall=10.0, workers=2), pool, 2, time.perf_counter(), counts
        )
    plan = np.flatnonzero(on).tolist()
    assert _valid(component, plan)
    assert plan == [0, 1, 4, 5] and counts["parts_improved"] == 1


def test_lanes_take_every_part_once_with_their_heads_far_apart():
    assert partition.lanes(5, 2) == [[0, 1, 2], [3, 4]]
    assert partition.lanes(4, 1) == [[0, 1, 2, 3]]
    assert partition.lanes(0, 2) == []
    assert sorted(k for lane in partition.lanes(83, 2) for k in lane) == list(range(83))


def tight_week(seed: int):
    """Few volunteers with little time for many overlapping requests: capacity and clashes bind."""
    rnd = random.Random(seed)
    capacity = {f"v{i:02}": rnd.choice([2, 3, 4]) for i in range(30)}
    spec = {f"r{j:02}": (rnd.choice([1, 1, 2]), rnd.choice([1, 3]), False) for j in range(60)}
    pairs = {(v, rnd.choice(list(spec))) for v in capacity for _ in range(10)}
    rows = [(v, r, rnd.choice([1, 1.5, 2]), round(rnd.uniform(0, 1), 3)) for v, r in sorted(pairs)]
    clashes = {tuple(sorted(rnd.sample(list(spec), 2))) for _ in range(400)}
    return make_instance(capacity, spec, rows, sorted(clashes))


@pytest.mark.parametrize("seed", range(20))
def test_the_local_search_keeps_every_rule_when_time_and_clashes_bind(seed):
    # Ejection chains (a place to a better volunteer, who hands one of theirs on to someone, perhaps
    # the volunteer just freed) are tried by the hundred here.
    for component in decompose(tight_week(seed)).components:
        start = greedy(component)
        better = improve(component, start)
        assert _valid(component, better)
        assert value(component, better)[0] == value(component, start)[0]
        assert value(component, better)[1] >= value(component, start)[1]


def _poor_start(component):
    """One place filled: every part then has something to gain and is solved."""
    return [next(p for p, r in enumerate(component.pair_request) if not component.all_or_nothing[r])]


@pytest.mark.parametrize("seed", range(3))
def test_parts_in_worker_processes_give_the_plan_threads_give(monkeypatch, tmp_path, seed):
    component = _largest(seed)
    start = _poor_start(component)
    monkeypatch.setattr(partition, "greedy", lambda component: start)
    budget = Budget(deterministic=1.0, wall=30.0, workers=2)
    real = partition.solve_cpsat

    def noting_the_process(where):
        def solve(*args, **options):
            with where.open("a") as note:
                note.write(f"{os.getpid()}\n")
            return real(*args, **options)

        return solve

    monkeypatch.setattr(partition, "solve_cpsat", noting_the_process(tmp_path / "threads"))
    threaded, threaded_counts = partition.solve_huge(component, budget, part_pairs=25)
    monkeypatch.setattr(partition, "solve_cpsat", noting_the_process(tmp_path / "processes"))
    monkeypatch.setattr(partition, "PROCESS_PAIRS", 0)
    in_processes, counts = partition.solve_huge(component, budget, part_pairs=25)
    in_threads = (tmp_path / "threads").read_text().split()
    solved_in = (tmp_path / "processes").read_text().split()
    assert set(in_threads) == {str(os.getpid())}
    assert len(solved_in) == len(in_threads) and str(os.getpid()) not in solved_in
    assert in_processes == threaded and counts == threaded_counts and counts["parts_improved"] > 0


def _children_misbehave(monkeypatch, seed, misbehave):
    """A week from a poor start, its plan in threads, then parts in worker processes where each child
    runs `misbehave()` before solving: (component, the threads' outcome)."""
    component = _largest(seed)
    start = _poor_start(component)
    monkeypatch.setattr(partition, "greedy", lambda component: start)
    expected, _ = partition.solve_huge(component, Budget(deterministic=1.0, wall=30.0, workers=2), part_pairs=25)
    parent = os.getpid()
    real = partition.solve_cpsat

    def in_a_child(*args, **options):
        if os.getpid() != parent:
            misbehave()
        return real(*args, **options)

    monkeypatch.setattr(partition, "solve_cpsat", in_a_child)
    monkeypatch.setattr(partition, "PROCESS_PAIRS", 0)
    return component, expected


def test_a_round_is_solved_in_threads_when_a_worker_process_dies(monkeypatch):
    # A worker process killed mid-part (out of memory, say).
    component, expected = _children_misbehave(monkeypatch, 1, lambda: os._exit(1))
    outcome, counts = partition.solve_huge(component, Budget(deterministic=1.0, wall=30.0, workers=2), part_pairs=25)
    assert outcome == expected and counts["parts_improved"] > 0


def test_a_hung_worker_process_is_killed_and_its_round_solved_here(monkeypatch):
    # A lock inherited from another thread, never released.
    component, expected = _children_misbehave(monkeypatch, 2, lambda: time.sleep(3600))
    monkeypatch.setattr(partition, "PROCESS_GRACE", 0.5)
    started = time.perf_counter()
    outcome, _ = partition.solve_huge(component, Budget(deterministic=1.0, wall=1.0, workers=2), part_pairs=25)
    assert outcome.chosen == expected.chosen
    assert time.perf_counter() - started < 20
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:  # reaps the killed workers
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def test_the_splits_made_in_a_process_of_their_own_are_the_splits(monkeypatch):
    component = _largest(3)
    made = []
    real_beside = partition.Beside
    monkeypatch.setattr(partition, "Beside", lambda work, **options: made.append(work) or real_beside(work, **options))
    monkeypatch.setattr(partition, "PROCESS_PAIRS", 0)
    seen = []
    real_pass = partition._pass
    monkeypatch.setattr(
        partition, "_pass", lambda arrays, on, parts, *rest: seen.append(parts) or real_pass(arrays, on, parts, *rest)
    )
    partition.solve_huge(component, Budget(deterministic=0.5, wall=30.0, workers=2), part_pairs=25)
    assert [work.func for work in made] == [relaxation_bounds, partition._splits]  # the bound's process, the splits'
    splits = partition._splits(component, 25, 0)
    assert [p.tolist() for p in seen[0]] == [p.tolist() for p in partition.split(component, 25)]
    assert [[p.tolist() for p in parts] for parts in seen] == [[p.tolist() for p in parts] for parts in splits]


def test_sub_components_cut_one_after_another_are_cut_afresh():
    # sub() reuses one scratch array of positions: a part cut after another must not see the first's.
    component = _largest(0)
    arrays = partition.ComponentArrays(component)
    rng = np.random.default_rng(0)
    for _ in range(5):
        pairs = np.sort(rng.choice(component.num_pairs, size=component.num_pairs // 3, replace=False))
        got = arrays.sub(pairs)
        want = partition.ComponentArrays(component).sub(pairs)
        assert got == want and len(got.clashes) > 0


@pytest.mark.parametrize("seed", range(3))
def test_each_part_has_the_room_the_plan_leaves_its_volunteers(seed):
    # The volunteers' loads are kept up to date as parts change the plan: each part's model gets what
    # the plan of that moment, outside the part, leaves each of its volunteers.
    component = _largest(seed)
    arrays = partition.ComponentArrays(component)
    on = np.zeros(component.num_pairs, dtype=bool)
    rng = np.random.default_rng(seed)
    # Half the greedy plan's single places (no team member): parts then both add and move pairs.
    strict = component.all_or_nothing
    on[[p for p in greedy(component) if not strict[component.pair_request[p]] and rng.random() < 0.5]] = True
    assert _valid(component, np.flatnonzero(on).tolist())
    checked = []
    cut = arrays.sub

    def sub(keep, *, capacity, needed, clash_rows):
        outside = on.copy()
        outside[keep] = False
        load = np.bincount(arrays.pv[outside], weights=arrays.load[outside], minlength=len(arrays.capacity))
        volunteers = np.unique(arrays.pv[keep])
        checked.append(np.array_equal(capacity[volunteers], arrays.capacity[volunteers] - load[volunteers]))
        return cut(keep, capacity=capacity, needed=needed, clash_rows=clash_rows)

    arrays.sub = sub
    counts = {"parts": 0, "parts_improved": 0, "parts_full": 0, "parts_stopped_by_clock": 0}
    with partition._PartPool(2, processes=False) as pool:
        partition._pass(
            arrays, on, partition.split(component, 25), Budget(1.0, 30.0, 2), pool, 2, time.perf_counter(), counts
        )
    assert len(checked) > 5 and all(checked) and counts["parts_improved"] > 1
    assert _valid(component, np.flatnonzero(on).tolist())
