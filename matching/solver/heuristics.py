"""Heuristics for a component's plan: the greedy start and the two local searches. Pure module.

- ``greedy``: requests most urgent first, scarcest first, each place to its best free candidate;
- ``improve``: the same places, better matches (moves and swaps that raise the score);
- ``augment``: free places filled by short chains of hand-ons over the whole plan;
- ``better``: the lexicographically better of two plans (coverage, then score).

The CP-SAT path (``cpsat``) starts from and finishes with these; a huge component (``partition``)
runs them around its parts.
"""

from __future__ import annotations

import numpy as np

from matching.solver.components import Component, clash_partners, lexorder, value

# The local search between phases looks at most IMPROVE_EFFORT alternatives per place, and does
# at most IMPROVE_WORK checks per pair of the component in all (a cap on its time: linear).
IMPROVE_EFFORT = 60
IMPROVE_WORK = 10
# augment (filling free places by short moves) does at most AUGMENT_WORK checks per pair of the component.
# A place is handed on along a chain of at most AUGMENT_DEPTH volunteers; at the k-th link it looks at the
# AUGMENT_CHAIN_OPTIONS[k - 1] best candidates of the request for one who could hand a place of their own
# on. Each link up to three fills more places; a fourth link, or more candidates per link, spends the same
# work on longer searches and fills fewer (see bench/RESULTS.md).
AUGMENT_WORK = 8
AUGMENT_DEPTH = 3
AUGMENT_CHAIN_OPTIONS = (60, 20)


def greedy(component: Component, *, best_scores_first: bool = False, keep: list[int] | None = None) -> list[int]:
    """A feasible starting plan, every rule checked: requests in order of priority, the scarcest first
    (fewest candidates per place); each takes, of the volunteers who still fit, those least needed by
    the requests still to come, best score first among equals; a team only when it can be completed.

    How much a volunteer is needed (their *demand*): over the requests not yet placed that they could
    take, each one's priority × places ÷ candidates (their share of it), times the share of their
    remaining room this place would use. Why: at city scale someone who is one of two candidates for
    a later urgent visit must not be spent on a routine request that has thirty. At city scale this
    fills clearly more priority-weighted places than giving each request its best scores first; the
    score is then won back by ``improve`` (same places, better matches).
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
    # do without them (this order fills more places than request order).
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
    Built once per component, as the clash partners are (at city scale a noticeable cost, asked for by
    ``augment`` and then ``improve``); callers only read the lists."""
    if component.ranked is not None:
        return component.ranked
    # One sort of every pair by (request, best score, index), cut per request: several times faster than a
    # key function called per pair.
    request = np.array(component.pair_request, dtype=np.int64)
    order = lexorder(request, -np.array(component.score, dtype=np.int64), np.arange(len(request))).tolist()
    ends = np.cumsum(np.bincount(request, minlength=len(component.request_ids))).tolist()
    by_request = [order[begin:end] for begin, end in zip([0, *ends[:-1]], ends, strict=True)]
    component.ranked = by_request
    return by_request


def better(component: Component, incumbent: list[int], challenger: list[int]) -> list[int]:
    """The lexicographically better plan; the incumbent on a tie (keeps runs reproducible)."""
    return challenger if value(component, challenger) > value(component, incumbent) else incumbent
