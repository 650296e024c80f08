"""The CP-SAT path: any component, with knapsacks, clashes and all-or-nothing teams.

Pure module. One boolean per pair; the rules as constraints; two solves in a row for the
lexicographic goal:

1. maximise coverage (sum of request priority over chosen pairs);
2. add "coverage >= the phase-1 value" and maximise score, hinted with the phase-1 plan.

Why two phases rather than one weighted objective (priority × BIG + score): the weighted
form is exact too, but its coefficients grow with the number of pairs (BIG must exceed
the whole score range), which weakens CP-SAT's LP relaxation and its bound reasoning and
can overflow at city scale. Two phases keep each objective small and make the bound
honest: phase 2's bound covers every plan with at least the phase-1 coverage, and that
includes the optimal plan even when phase 1 was not proven.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.components import Component, Outcome, clash_partners, lexorder, trivial_bounds, value
from matching.relaxation import relaxation_bounds

# Phase 1 (coverage) decides most of the plan, so it gets most of the time; phase 2
# (score) gets the rest plus whatever phase 1 did not use. On large models phase 2 barely
# moves from its hint (the local search does that work), and a tenth of the budget did not even
# cover its presolve (10,000 x 3,000 week: 0.24 s, stopped by the clock with no bound): there phase 1
# gets it all, and phase 2 runs only on what a proven phase 1 leaves.
PHASE_ONE_SHARE = 0.7
PHASE_ONE_SHARE_LARGE = 1.0

# From this many pairs, phase 1 runs one CP-SAT worker with linearization level 2 (cuts on the
# knapsack and team rows). Measured on 30k-pair city components: proven in ~4 s, where the
# default two interleaved workers had not closed a 1% gap after 120 s. One worker is also
# deterministic. Smaller models prove fast either way and keep the portfolio.
LARGE_PAIRS = 5_000

# The local search between phases looks at most IMPROVE_EFFORT alternatives per place, and does
# at most IMPROVE_WORK checks per pair of the component in all (a cap on its time: linear).
IMPROVE_EFFORT = 60
IMPROVE_WORK = 10
# augment (filling free places by short moves) does at most AUGMENT_WORK checks per pair of the component.
# A place is handed on along a chain of at most AUGMENT_DEPTH volunteers; at the k-th link it looks at the
# AUGMENT_CHAIN_OPTIONS[k - 1] best candidates of the request for one who could hand a place of their own
# on. Measured on London's week after the parts (75,741), requests in index order: chains of one 75,869,
# of two 76,003, of three 76,052 (scarcest first: 76,111; 1.5–2 s); four links, or more candidates per
# link, found less within the same work.
AUGMENT_WORK = 8
AUGMENT_DEPTH = 3
AUGMENT_CHAIN_OPTIONS = (60, 20)


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for one CP-SAT component: deterministic time binds; `wall` seconds (from the
    call, model building included) are a backstop."""

    deterministic: float
    wall: float
    workers: int = 1
    seed: int = 0


def solve_cpsat(
    component: Component,
    budget: Budget,
    *,
    score_phase: bool = True,
    hint: list[int] | None = None,
    quick_starts: bool = True,
) -> Outcome:
    """Solve one component (or a merged batch) lexicographically with CP-SAT.

    `hint` is a valid plan (local pair indices) to start from; the result is never worse.
    `score_phase=False` skips phase 2 and the local search before it (the parts of a huge component:
    one local search over the whole plan does the score there); the score bound is then the trivial
    one and the outcome is not optimal.

    Always returns a feasible plan: the best of a greedy plan and what each phase found.
    Bounds are CP-SAT's when it reports a usable one, otherwise the trivial bounds, which
    hold for every plan.
    """
    # The wall backstop counts from now: building the model is part of the component's time.
    deadline = time.perf_counter() + budget.wall
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(component.num_pairs)]
    teams = _add_rules(model, component, x)
    pair_priority = [component.priority[r] for r in component.pair_request]
    coverage = cp_model.LinearExpr.weighted_sum(x, pair_priority)
    trivial_coverage, trivial_score = trivial_bounds(component)

    # The greedy plans hint phase 1 and stay candidates: phase 1 returns *a* plan of best coverage
    # with an arbitrary score, and when phase 2 runs out of time a greedy plan is often the better.
    # Two of them: the volunteers least needed elsewhere first (more coverage where people are
    # scarce) and the best scores first (on a 2,000-volunteer week, the same coverage at a higher
    # score, from which phase 2 proved its optimum in two thirds of the time). A part of a huge
    # component (``quick_starts=False``) starts from its hint alone: the plan around it.
    best = sorted(hint) if hint is not None else []
    if quick_starts or hint is None:
        best = better(component, better(component, greedy(component, best_scores_first=True), greedy(component)), best)
        best = better(component, best, augment(component, best))  # and its free places filled by short moves
    _hint(model, x, teams, component, best)
    _maximize(model, x, pair_priority)
    large = component.num_pairs >= LARGE_PAIRS
    phase_one_share = (PHASE_ONE_SHARE_LARGE if large else PHASE_ONE_SHARE) if score_phase else 1.0
    det_one = budget.deterministic * phase_one_share
    wall_one = max(deadline - time.perf_counter(), 0.0) * phase_one_share
    first = _solver(budget, det_one, wall_one, large=large)
    status = _checked(first, first.solve(model))
    used_det = _rounded(first.deterministic_time)
    wall_hit = _wall_stopped(first, status, wall_one)
    proven = status == cp_model.OPTIMAL
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = better(component, best, _chosen(first, x))
        coverage_bound = min(_floor(first.best_objective_bound, trivial_coverage), trivial_coverage)
    else:
        coverage_bound = trivial_coverage  # UNKNOWN: CP-SAT's bound field means nothing then
    if large and not proven:  # the search stopped early: short moves may still fill a place or two
        best = better(component, best, augment(component, best))
    found_coverage, _ = value(component, best)
    if not score_phase:  # the caller's local search, over the whole plan, does the score
        final_coverage, final_score = value(component, best)
        return Outcome(
            best, max(coverage_bound, final_coverage), max(trivial_score, final_score), False, used_det, wall_hit
        )

    # Phase 1's plan has the best coverage but an arbitrary score: move people to better-scoring
    # places of the same requests first, so that phase 2 starts from a good plan.
    best = better(component, best, improve(component, best))
    if large and not proven:  # phase 1 had the whole budget: nothing is left for phase 2
        final_coverage, final_score = value(component, best)
        score_bound = min(trivial_score, relaxation_bounds(component)[1])
        return Outcome(
            best, max(coverage_bound, final_coverage), max(score_bound, final_score), False, used_det, wall_hit
        )
    model.add(coverage >= found_coverage)
    _maximize(model, x, component.score)
    model.clear_hints()
    _hint(model, x, teams, component, best)
    det_two, wall_two = max(budget.deterministic - used_det, 0.0), max(deadline - time.perf_counter(), 0.0)
    second = _solver(budget, det_two, wall_two)
    status = _checked(second, second.solve(model))
    used_det += _rounded(second.deterministic_time)
    wall_hit = wall_hit or _wall_stopped(second, status, wall_two)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = better(component, best, _chosen(second, x))
        # Phase 2 ranged over every plan with coverage >= found_coverage, which includes the
        # optimal plan even when phase 1 was not proven: its bound bounds the optimal score.
        score_bound = min(_floor(second.best_objective_bound, trivial_score), trivial_score)
    else:
        score_bound = trivial_score
    if status != cp_model.OPTIMAL:
        best = better(component, best, improve(component, best))
        if large and score_bound == trivial_score:
            # No bound from phase 2 in time: a flow relaxation's is far tighter than the trivial one.
            score_bound = min(score_bound, relaxation_bounds(component)[1])
    final_coverage, final_score = value(component, best)
    return Outcome(
        best,
        max(coverage_bound, final_coverage),
        max(score_bound, final_score),
        proven and status == cp_model.OPTIMAL,
        used_det,
        wall_hit,
    )


def _add_rules(model: cp_model.CpModel, component: Component, x: list[cp_model.IntVar]) -> dict[int, cp_model.IntVar]:
    """Post the hard rules; return the 'team is staffed' boolean of each all-or-nothing request."""
    by_request: list[list[int]] = [[] for _ in component.request_ids]
    by_volunteer: list[list[int]] = [[] for _ in component.volunteer_ids]
    for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True)):
        by_request[r].append(p)
        by_volunteer[v].append(p)
    teams = {}
    for r, pairs in enumerate(by_request):
        needed = component.needed[r]
        if component.all_or_nothing[r]:
            teams[r] = staffed = model.new_bool_var("")
            model.add(cp_model.LinearExpr.sum([x[p] for p in pairs]) == needed * staffed)
        elif needed == 1 and len(pairs) > 1:
            model.add_at_most_one(x[p] for p in pairs)
        elif len(pairs) > needed:
            model.add(cp_model.LinearExpr.sum([x[p] for p in pairs]) <= needed)
    units = component.unit_capacities()
    for v, pairs in enumerate(by_volunteer):
        paid = [p for p in pairs if component.load[p] > 0]
        if units[v] is None:
            model.add(
                cp_model.LinearExpr.weighted_sum([x[p] for p in paid], [component.load[p] for p in paid])
                <= component.capacity[v]
            )
        elif units[v] == 1 and len(paid) > 1:
            model.add_at_most_one(x[p] for p in paid)
        elif units[v] < len(paid):
            # All loads equal: a count is the same rule and gives CP-SAT a tighter relaxation.
            model.add(cp_model.LinearExpr.sum([x[p] for p in paid]) <= units[v])
    for a, b in component.clashes:
        model.add_at_most_one(x[a], x[b])
    return teams


def greedy(component: Component, *, best_scores_first: bool = False, keep: list[int] | None = None) -> list[int]:
    """A feasible starting plan, every rule checked: requests in order of priority, the scarcest first
    (fewest candidates per place); each takes, of the volunteers who still fit, those least needed by
    the requests still to come, best score first among equals; a team only when it can be completed.

    How much a volunteer is needed (their *demand*): over the requests not yet placed that they could
    take, each one's priority × places ÷ candidates (their share of it), times the share of their
    remaining room this place would use. Why: at city scale someone who is one of two candidates for
    a later urgent visit must not be spent on a routine request that has thirty. Measured on London's
    week (415k pairs): 75,595 priority-weighted places against 74,152 when each request took its best
    scores first (+1.9%); the score is then won back by ``improve`` (same places, better matches).
    Deterministic: the same order of float operations every time, ties broken by score then index.
    ``best_scores_first`` gives each request its best-scoring volunteers instead (the earlier rule).
    ``keep``, a valid plan (e.g. the previous one, less those who dropped out), is taken first and
    only the places it leaves free are filled: a re-plan that starts there moves few people.
    """
    score, load, volunteer = component.score, component.load, component.pair_volunteer
    priority, needed, strict = component.priority, component.needed, component.all_or_nothing
    by_request: list[list[int]] = [[] for _ in component.request_ids]
    for p, r in enumerate(component.pair_request):
        by_request[r].append(p)
    start, partners = clash_partners(component)
    share = [priority[r] * needed[r] / len(pairs) if pairs else 0.0 for r, pairs in enumerate(by_request)]
    demand = [0.0] * len(component.volunteer_ids)
    for p, r in enumerate(component.pair_request):
        demand[volunteer[p]] += share[r]
    taken = [False] * component.num_pairs
    blocked = [0] * component.num_pairs  # how many of each pair's clash partners are taken
    room = list(component.capacity)

    def fits(p: int) -> bool:
        return load[p] <= room[volunteer[p]] and not blocked[p]

    def least_needed(p: int) -> tuple[float, int, int]:
        v = volunteer[p]
        return (demand[v] * load[p] / max(room[v], 1), -score[p], p)

    def best_score(p: int) -> tuple[int, int]:
        return (-score[p], p)

    preference = best_score if best_scores_first else least_needed

    def take(p: int) -> None:
        taken[p] = True
        room[volunteer[p]] -= load[p]
        for q in partners[start[p] : start[p + 1]]:
            blocked[q] += 1

    placed = [0] * len(component.request_ids)
    for p in keep or ():
        take(p)
        placed[component.pair_request[p]] += 1

    order = sorted(range(len(component.request_ids)), key=lambda r: (-priority[r], len(by_request[r]) / needed[r], r))
    for r in order:
        for p in by_request[r]:  # this request is no longer "still to come"
            demand[volunteer[p]] -= share[r]
        worth = priority[r] > 0
        wanted = needed[r] - placed[r]
        if not wanted or (strict[r] and placed[r]):  # full already, or a team kept whole
            continue
        options = by_request[r] if worth or strict[r] else [p for p in by_request[r] if score[p] > 0]
        team: list[int] = []
        # Pairs of one request have distinct volunteers and never clash with each other.
        for p in sorted(options, key=preference):
            if not taken[p] and fits(p):
                team.append(p)
                if len(team) == wanted:
                    break
        complete = len(team) == wanted and (worth or sum(score[p] for p in team) > 0)
        if strict[r] and not complete:
            continue
        for p in team:
            take(p)
    return [p for p in range(component.num_pairs) if taken[p]]


def improve(component: Component, chosen: list[int], *, work: int = 0) -> list[int]:
    """A plan with the same places filled and a score at least as high.

    Local search: move a place to a better-scoring volunteer of the same request, either directly
    or by also handing one of the new volunteer's own places on to someone else (an ejection
    chain of two; the someone else may be the volunteer who was just freed). Every rule is checked
    at each step. Each move keeps every request's head count, so coverage never changes and this
    only serves the second goal. Deterministic: pairs in index order, alternatives best first, and
    the work is capped (IMPROVE_EFFORT checks per pair) so it stays linear.
    """
    n = component.num_pairs
    volunteer, request, load, score = component.pair_volunteer, component.pair_request, component.load, component.score
    # The alternatives tried for a place, cut once (slicing them at every try cost a tenth of the search).
    by_request = [options[:IMPROVE_EFFORT] for options in _ranked_options(component)]
    start, partners = clash_partners(component)
    on = [False] * n
    # How many of each pair's clash partners are in the plan, kept up to date: checking whether a pair
    # fits is then one lookup, not a scan of its partners (a city pair has ~20; checks outnumber moves).
    blocked = [0] * n
    room = list(component.capacity)
    taken: list[set[int]] = [set() for _ in component.volunteer_ids]
    effort = (work or IMPROVE_WORK) * max(n, 1)

    def take(p: int) -> None:
        on[p] = True
        room[volunteer[p]] -= load[p]
        taken[volunteer[p]].add(p)
        for c in partners[start[p] : start[p + 1]]:
            blocked[c] += 1

    def drop(p: int) -> None:
        on[p] = False
        room[volunteer[p]] += load[p]
        taken[volunteer[p]].discard(p)
        for c in partners[start[p] : start[p + 1]]:
            blocked[c] -= 1

    def clashes_with(a: int, b: int) -> bool:
        return b in partners[start[a] : start[a + 1]]

    def replacement(p: int, least_gain: int, leaving: int | None = None) -> int | None:
        """The best free alternative for p's place scoring more than score[p] + least_gain. With ``leaving``,
        as it would be once that pair left the plan too, found without making the moves (in an ejection
        chain most tries fail, and undoing them cost more than the search itself)."""
        nonlocal effort
        freed = -1 if leaving is None else volunteer[leaving]
        floor = score[p] + least_gain
        for q in by_request[request[p]]:
            effort -= 1
            if score[q] <= floor:
                return None
            if q == p or on[q]:
                continue
            # In a chain, only the leaving pair's volunteer has more room and fewer clashes: q is never a
            # pair of p's own volunteer (theirs for p's request is p), who takes the better place instead.
            # `leaving` is in the plan, so a q it clashes with has blocked[q] >= 1: with none, no clash.
            v = volunteer[q]
            if v == freed:
                if load[q] <= room[freed] + load[leaving] and (
                    not blocked[q] or (blocked[q] == 1 and clashes_with(q, leaving))
                ):
                    return q
            elif load[q] <= room[v] and not blocked[q]:  # fits(q), inline: this is the hottest line
                return q
        return None

    def ejection(p: int) -> bool:
        nonlocal effort
        for q in by_request[request[p]]:
            gain = score[q] - score[p]
            if gain <= 0 or effort <= 0:
                return False
            if on[q]:
                continue
            v = volunteer[q]
            for p2 in sorted(taken[v]):
                effort -= 1
                # q must clash with nothing in the plan but p2 (which would make way for it).
                if load[q] > room[v] + load[p2] or (blocked[q] and (blocked[q] > 1 or not clashes_with(q, p2))):
                    continue
                q2 = replacement(p2, -gain, leaving=p)
                if q2 is not None:
                    drop(p)
                    drop(p2)
                    take(q)
                    take(q2)
                    return True
        return False

    for p in chosen:
        take(p)
    improved = True
    while improved and effort > 0:
        improved = False
        for p in [p for p in range(n) if on[p]]:
            if not on[p] or effort <= 0:
                continue
            q = replacement(p, 0)
            if q is not None:
                drop(p)
                take(q)
                improved = True
            elif ejection(p):
                improved = True
    return [p for p in range(n) if on[p]]


def augment(component: Component, chosen: list[int], *, work: int = AUGMENT_WORK) -> list[int]:
    """A plan with at least the coverage of `chosen` (a valid plan): free places filled by short moves.

    For each request with a free place, urgent first and then the scarcest first, each candidate in turn
    (best score first) takes the place if they fit; or else after one of their own places is handed on:
    to someone free for it, or along a chain of up to AUGMENT_DEPTH volunteers, each taking the place of
    the one before once they hand one of theirs on; or else, the cheapest way, after a place at the end
    of such a chain (or their own) is given up, when it is worth less than this one. A team is filled
    only whole, and only when what it adds outweighs what it gives up; otherwise every move made for it
    is undone. Every gain is a whole priority point or more, so this ends; its checks are capped at
    `work` per pair. Why: the parts of a huge component are each solved with everything around them
    fixed, so a place whose candidates are busy just across a border stays empty, and a volunteer freed
    by a later part is not offered to an earlier one's empty places.
    """
    n = component.num_pairs
    volunteer, request, load = component.pair_volunteer, component.pair_request, component.load
    priority, needed, strict = component.priority, component.needed, component.all_or_nothing
    by_request = _ranked_options(component)
    # The alternatives tried for a place handed on, cut once per request (not sliced at every try).
    first_tried = [options[:IMPROVE_EFFORT] for options in by_request]
    chain_tried = [[options[:count] for options in by_request] for count in AUGMENT_CHAIN_OPTIONS]
    start, partners = clash_partners(component)
    on = [False] * n
    blocked = [0] * n  # as in improve: how many of each pair's clash partners are in the plan
    room = list(component.capacity)
    taken: list[set[int]] = [set() for _ in component.volunteer_ids]
    filled = [0] * len(component.request_ids)
    journal: list[tuple[bool, int]] = []  # (taken?, pair) of the moves made for a team, to undo them
    effort = work * max(n, 1)

    def take(p: int) -> None:
        on[p] = True
        room[volunteer[p]] -= load[p]
        taken[volunteer[p]].add(p)
        filled[request[p]] += 1
        for c in partners[start[p] : start[p + 1]]:
            blocked[c] += 1
        journal.append((True, p))

    def drop(p: int) -> None:
        on[p] = False
        room[volunteer[p]] += load[p]
        taken[volunteer[p]].discard(p)
        filled[request[p]] -= 1
        for c in partners[start[p] : start[p + 1]]:
            blocked[c] -= 1
        journal.append((False, p))

    def undo(mark: int) -> None:
        while len(journal) > mark:
            was_taken, p = journal.pop()
            (drop if was_taken else take)(p)
            journal.pop()  # the undo's own entry

    def fits(q: int) -> bool:
        return load[q] <= room[volunteer[q]] and not blocked[q]

    def freeing(q: int) -> list[int]:
        """The places of q's volunteer any one of which, left, would let them take q."""
        v = volunteer[q]
        # q's clash partners in the plan are all v's own pairs (a clash binds two pairs of one volunteer).
        if blocked[q] > 1:
            return []
        short = load[q] - room[v]  # leaving p2 makes room when load[p2] >= short
        if not blocked[q]:
            return [p2 for p2 in sorted(taken[v]) if load[p2] >= short]
        return [p2 for p2 in sorted(taken[v]) if load[p2] >= short and q in partners[start[p2] : start[p2 + 1]]]

    def hand_on(p2: int, chain: tuple[int, ...]) -> tuple[int, list[tuple[int, int | None]]] | None:
        """How the place p2 can be left: (priority given up, moves in order). Handed on to someone free,
        (0, [(p2, q2)]); else, within AUGMENT_DEPTH, to someone who first leaves one of their own places
        the same way, [..., (p3, q3), (p2, q2)]; else the cheapest such chain that ends in a place given up
        (p3, None), or p2 itself given up. Nobody in `chain` (the volunteers whose room and clashes the
        moves already change) takes a place: every other volunteer's stay as they are, so each move is
        checked against the plan as it is. None if p2 cannot be left (a team's member with nobody free)."""
        nonlocal effort
        r2 = request[p2]
        for q2 in first_tried[r2]:  # q2's volunteer never holds p2: theirs for that request is p2
            effort -= 1
            if not on[q2]:
                v2 = volunteer[q2]
                if load[q2] <= room[v2] and not blocked[q2] and v2 not in chain:  # fits(q2), inline: hottest
                    return 0, [(p2, q2)]
        cheapest = None if strict[r2] else (priority[r2], [(p2, None)])
        if len(chain) >= AUGMENT_DEPTH:
            return cheapest
        for q2 in chain_tried[len(chain) - 1][r2]:
            effort -= 1
            if on[q2] or volunteer[q2] in chain or effort <= 0:
                continue
            for p3 in freeing(q2):
                way = hand_on(p3, (*chain, volunteer[q2]))
                if way is not None and (cheapest is None or way[0] < cheapest[0]):
                    cheapest = (way[0], [*way[1], (p2, q2)])
                    if not way[0]:
                        return cheapest
        return cheapest

    def way_in(q: int) -> tuple[int, list[tuple[int, int | None]]] | None:
        """(priority given up, moves) after which q's volunteer can take q: no moves if they fit as they
        are; else one of their places left as ``hand_on`` leaves it, the cheapest way. None if none."""
        nonlocal effort
        if fits(q):
            return 0, []
        cheapest = None
        for p2 in freeing(q):
            effort -= 1
            way = hand_on(p2, (volunteer[q],))
            if way is not None and (cheapest is None or way[0] < cheapest[0]):
                cheapest = way
                if not way[0]:
                    break
        return cheapest

    def enter(q: int, moves: list[tuple[int, int | None]]) -> int:
        """Make the moves and take q; return the priority given up."""
        lost = 0
        for left, successor in moves:
            drop(left)
            if successor is None:
                lost += priority[request[left]]
            else:
                take(successor)
        take(q)
        return lost

    for p in chosen:
        take(p)
    journal.clear()
    # Urgent first, and within a priority the scarcest first (fewest candidates per place), as in the greedy
    # start: the people free to take a handed-on place are few, and a request with thirty candidates can
    # do without them (London's week: 76,111 after the parts, against 76,052 in request order).
    order = sorted(
        (r for r in range(len(component.request_ids)) if priority[r] > 0),
        key=lambda r: (-priority[r], len(by_request[r]) / needed[r], r),
    )
    improved = True
    while improved and effort > 0:
        improved = False
        for r in order:
            if filled[r] >= needed[r] or (strict[r] and filled[r]) or effort <= 0:
                continue
            mark, gained = len(journal), 0
            for q in by_request[r]:
                if filled[r] >= needed[r]:
                    break
                effort -= 1
                if on[q]:
                    continue
                way = way_in(q)
                if way is None or (not strict[r] and way[0] >= priority[r]):
                    continue  # no way in, or what it gives up would not pay for this place
                gained += priority[r] - enter(q, way[1])
            if strict[r] and (filled[r] < needed[r] or gained <= 0):
                undo(mark)  # a team only whole, and only if it adds more than it gives up
            elif gained > 0:
                improved = True
            journal.clear()
    return [p for p in range(n) if on[p]]


def _ranked_options(component: Component) -> list[list[int]]:
    """Each request's pairs, best score first (then by index): the alternatives the local searches try.
    Built once per component, as the clash partners are (a city's 415k pairs: ~0.35 s, asked by
    ``augment`` and then ``improve``); callers only read the lists."""
    if component.ranked is not None:
        return component.ranked
    # One sort of every pair by (request, best score, index), cut per request: a key function called per
    # pair took ~0.35 s on a city's 415k pairs, this ~0.05 s.
    request = np.array(component.pair_request, dtype=np.int64)
    order = lexorder(request, -np.array(component.score, dtype=np.int64), np.arange(len(request))).tolist()
    ends = np.cumsum(np.bincount(request, minlength=len(component.request_ids))).tolist()
    by_request = [order[begin:end] for begin, end in zip([0, *ends[:-1]], ends, strict=True)]
    component.ranked = by_request
    return by_request


def better(component: Component, incumbent: list[int], challenger: list[int]) -> list[int]:
    """The lexicographically better plan; the incumbent on a tie (keeps runs reproducible)."""
    return challenger if value(component, challenger) > value(component, incumbent) else incumbent


def _hint(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    teams: dict[int, cp_model.IntVar],
    component: Component,
    chosen: list[int],
) -> None:
    # Written into the model's proto in bulk (what add_hint does one variable at a time): a city
    # part or a 30k-pair component has tens of thousands of variables, and this runs twice per model.
    on = [0] * len(x)
    for p in chosen:
        on[p] = 1
    staffed = {component.pair_request[p] for p in chosen}
    hint = model.proto.solution_hint
    hint.vars.extend([var.index for var in x] + [var.index for var in teams.values()])
    hint.values.extend(on + [int(r in staffed) for r in teams])


def _maximize(model: cp_model.CpModel, x: list[cp_model.IntVar], coefficients: list[int]) -> None:
    """``model.maximize(LinearExpr.weighted_sum(x, coefficients))``, written into the proto in bulk as
    ``maximize`` writes it (negated coefficients, scaling factor -1), without building and flattening
    an expression of one term per pair first."""
    model.clear_objective()
    objective = model.proto.objective
    objective.vars.extend([var.index for var in x])
    objective.coeffs.extend([-c for c in coefficients])
    objective.scaling_factor = -1.0


def _solver(budget: Budget, deterministic: float, wall: float, *, large: bool = False) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1 if large else max(1, min(budget.workers, 2))  # the hosts have 2 cores
    if large:
        parameters.linearization_level = 2
    parameters.random_seed = budget.seed
    if parameters.num_workers > 1:
        parameters.interleave_search = True  # parallel but deterministic (see docs/matching.md)
    # A spent budget means "stop almost at once", never a zero/negative (invalid) limit.
    parameters.max_deterministic_time = max(deterministic, 1e-3)
    parameters.max_time_in_seconds = max(wall, 1e-3)
    return solver


def _checked(solver: cp_model.CpSolver, status: int) -> int:
    # INFEASIBLE cannot happen (the hinted plan satisfies both phases); MODEL_INVALID is a bug.
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        raise RuntimeError(f"CP-SAT ended {solver.status_name(status)}: {solver.solution_info()}")
    return status


def _wall_stopped(solver: cp_model.CpSolver, status: int, wall_limit: float) -> bool:
    """Whether the wall clock ended an unproven search (then the plan may differ between runs)."""
    return status != cp_model.OPTIMAL and solver.wall_time >= 0.98 * wall_limit


def _chosen(solver: cp_model.CpSolver, x: list[cp_model.IntVar]) -> list[int]:
    return [p for p, var in enumerate(x) if solver.boolean_value(var)]


def _rounded(deterministic_time: float) -> float:
    # Parallel runs of the same search report deterministic time differing in the last bit;
    # rounding keeps the budgets passed on to later phases and components reproducible.
    return round(deterministic_time, 6)


def _floor(bound: float, fallback: int) -> int:
    """CP-SAT's bound as an int (objectives are integral); fallback if it has none."""
    if not math.isfinite(bound):
        return fallback
    return math.floor(bound + 1e-6)  # never round a true bound below itself
