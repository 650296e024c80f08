"""Local first: a ward's own requests have first call on its panel. Pure (no Flask, no ORM).

The rule (docs/matching.md, "Local first"), on an instance whose volunteers carry ``panel_wards`` and
whose requests carry ``ward``:

- An assignment (v, o) is **outside** when v sits on at least one panel and o's ward is none of them
  (a request with no ward is outside for every panel member).
- A request is **short** when it has fewer people than it needs, except an all-or-nothing request for two
  or more: one volunteer moving cannot start it (it is everyone or nobody), so the rule, which moves one
  volunteer at a time, does not protect it. The coverage goal and the panel's score term still favour it,
  and its empty places are counted in the run's abstraction figures.
- **Local first** is broken by (v, o, r) when (v, o) is outside, r is a request of one of v's panel wards
  that is short, of priority at least o's, v is paired with r (passed every rule for it) and not already
  on it, and v could take r if o were dropped: within capacity without o's load, and no clash between r
  and v's other assignments.
- **Ring-fenced** wards' panel members leave their panel wards only for urgent requests: their pairs to
  non-urgent requests outside their panel wards are dropped before solving (``ring_fence``).

``repair`` makes any plan keep the rule: it moves a breaking volunteer from the outside request to the
best short local one (highest priority, then best score). When the outside request is an all-or-nothing
team, the whole team is dropped, so every request stays all-or-nothing. Each move removes one outside
assignment of a panel member and adds none (dropping a team removes more), so the repair ends. It then
fills the places it freed, greedily and without breaking the rule again. Every solver path (direct,
flow, CP-SAT, the huge components' parts) goes through it in ``plan.solve``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from matching.solver.instance import SCALE, ClashColumns, Instance, PairColumns

Kind = Literal["local_first", "ring_fence"]
# Why a panel member was working elsewhere while a short request of their ward could have had them.
Reason = Literal["higher", "team", "busy"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A breach of the rule. ``local_first``: ``volunteer`` is on ``outside`` while ``local`` (a short
    request of one of their panel wards, of equal or higher priority) could have had them instead.
    ``ring_fence``: ``volunteer`` (on a ring-fenced ward's panel) is on a non-urgent ``outside`` request."""

    kind: Kind
    volunteer: str
    outside: str
    local: str | None = None


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A panel member who could take a short local ``request`` (they passed every rule for it) but was
    given ``outside`` instead, and why: ``higher`` (it has a higher priority), ``team`` (the local request
    is an all-or-nothing team one person cannot start) or ``busy`` (they could not have taken both this
    and the rest of their work: a clash in time or their weekly hours)."""

    request: str
    volunteer: str
    outside: str
    reason: Reason


@dataclass
class Repaired:
    """The repaired plan as (volunteer id, request id) pairs, sorted by request then volunteer, its
    coverage and score (in thousandths), and what the repair did."""

    assignments: list[tuple[str, str]]
    coverage: int = 0
    score_milli: int = 0
    moves: int = 0
    teams_dropped: int = 0
    refilled: int = 0
    stats: dict[str, int] = field(default_factory=dict)


def has_panels(instance: Instance) -> bool:
    """Whether the rule can bind at all: some volunteer sits on a panel."""
    return any(v.panel_wards for v in instance.volunteers)


# ---- The instance as arrays -----------------------------------------------------------------------


class _Arrays:
    """Requests, volunteers and pairs by position, pairs grouped by volunteer and by request."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        requests, volunteers = instance.requests, instance.volunteers
        self.request_ids = [r.id for r in requests]
        self.volunteer_ids = [v.id for v in volunteers]
        self.request_at = {rid: i for i, rid in enumerate(self.request_ids)}
        self.volunteer_at = {vid: j for j, vid in enumerate(self.volunteer_ids)}
        self.needed = np.array([r.needed for r in requests], dtype=np.int64)
        self.priority = np.array([r.priority for r in requests], dtype=np.int64)
        self.team = np.array([r.all_or_nothing and r.needed >= 2 for r in requests], dtype=bool)
        self.urgent = np.array([r.urgent for r in requests], dtype=bool)
        wards: dict[str, int] = {}
        self.ward = np.array(
            [-1 if r.ward is None else wards.setdefault(r.ward, len(wards)) for r in requests], dtype=np.int64
        )
        for v in volunteers:
            for w in sorted(v.panel_wards):
                wards.setdefault(w, len(wards))
        self.wards = wards
        self.capacity = np.array([v.capacity_milli for v in volunteers], dtype=np.int64)
        self.panel = [frozenset(wards[w] for w in v.panel_wards) for v in volunteers]
        self.on_panel = np.array([bool(p) for p in self.panel], dtype=bool)
        fenced = {wards[w] for w in instance.ring_fenced if w in wards}
        self.fenced = np.array([bool(p & fenced) for p in self.panel], dtype=bool)

        self.pv, self.pr, self.load, self.score = _pair_columns(instance, self.volunteer_at, self.request_at)
        keys = np.array(sorted(j * (len(wards) + 1) + w for j, p in enumerate(self.panel) for w in p), dtype=np.int64)
        ward_of_pair = self.ward[self.pr]
        self.local = (ward_of_pair >= 0) & np.isin(self.pv * (len(wards) + 1) + ward_of_pair, keys)

        self.by_volunteer = np.lexsort((self.pr, self.pv))
        self.volunteer_start = np.searchsorted(self.pv[self.by_volunteer], np.arange(len(volunteers) + 1))
        self._clash_keys: np.ndarray | None = None

    def pairs_of(self, j: int) -> np.ndarray:
        return self.by_volunteer[self.volunteer_start[j] : self.volunteer_start[j + 1]]

    def pair(self, j: int, i: int) -> int:
        """The position of the pair (volunteer j, request i); -1 when they are not paired."""
        rows = self.pairs_of(j)
        at = int(np.searchsorted(self.pr[rows], i))
        return int(rows[at]) if at < len(rows) and self.pr[rows[at]] == i else -1

    def is_local(self, j: int, i: int) -> bool:
        return self.ward[i] >= 0 and int(self.ward[i]) in self.panel[j]

    def clash(self, a: int, b: int) -> bool:
        if self._clash_keys is None:
            self._clash_keys = _clash_keys(self.instance, self.request_at)
        n = len(self.request_ids)
        key = min(a, b) * n + max(a, b)
        at = int(np.searchsorted(self._clash_keys, key))
        return at < len(self._clash_keys) and int(self._clash_keys[at]) == key


def _pair_columns(
    instance: Instance, volunteer_at: dict[str, int], request_at: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pairs = instance.pairs
    if isinstance(pairs, PairColumns):  # a city week: the columns themselves, never a Pair object
        volunteers = np.array([volunteer_at[v.id] for v in pairs.volunteers], dtype=np.int64)
        requests = np.array([request_at[r.id] for r in pairs.requests], dtype=np.int64)
        return (
            volunteers[pairs.volunteer_at.astype(np.int64)] if len(volunteers) else np.zeros(0, dtype=np.int64),
            requests[pairs.request_at.astype(np.int64)] if len(requests) else np.zeros(0, dtype=np.int64),
            pairs.load.astype(np.int64) * SCALE,
            pairs.score_milli.astype(np.int64),
        )
    return (
        np.array([volunteer_at[p.volunteer] for p in pairs], dtype=np.int64),
        np.array([request_at[p.request] for p in pairs], dtype=np.int64),
        np.array([p.load_milli for p in pairs], dtype=np.int64),
        np.array([p.score_milli for p in pairs], dtype=np.int64),
    )


def _clash_keys(instance: Instance, request_at: dict[str, int]) -> np.ndarray:
    n = len(instance.requests)
    clashes = instance.clashes
    if isinstance(clashes, ClashColumns) and clashes.requests is instance.requests:
        a, b = clashes.first_at.astype(np.int64), clashes.second_at.astype(np.int64)
    else:
        found = [(request_at[x], request_at[y]) for x, y in clashes]
        a = np.array([x for x, _ in found], dtype=np.int64)
        b = np.array([y for _, y in found], dtype=np.int64)
    return np.sort(np.minimum(a, b) * n + np.maximum(a, b))


# ---- Ring-fencing: an eligibility filter before solving -------------------------------------------


def ring_fence(instance: Instance) -> tuple[Instance, int]:
    """The instance without the pairs a ring-fence forbids (a member of a ring-fenced ward's panel to a
    non-urgent request outside all their panel wards), and how many were dropped."""
    if not instance.ring_fenced or not has_panels(instance):
        return instance, 0
    arrays = _Arrays(instance)
    dropped = arrays.fenced[arrays.pv] & ~arrays.local & ~arrays.urgent[arrays.pr]
    count = int(dropped.sum())
    if not count:
        return instance, 0
    keep = ~dropped
    pairs = instance.pairs
    if isinstance(pairs, PairColumns):
        kept = PairColumns(
            pairs.volunteers,
            pairs.requests,
            pairs.volunteer_at[keep],
            pairs.request_at[keep],
            pairs.load[keep],
            pairs.score_milli[keep],
        )
    else:
        kept = tuple(p for p, k in zip(pairs, keep.tolist(), strict=True) if k)
    return Instance.trusted(instance.volunteers, instance.requests, kept, instance.clashes, instance.ring_fenced), count


# ---- A plan's state, and the rule checked on it ---------------------------------------------------


class _State:
    def __init__(self, arrays: _Arrays, assignments: Iterable[tuple[str, str]]) -> None:
        self.a = arrays
        self.on: dict[int, set[int]] = {}  # volunteer → requests
        self.members: dict[int, set[int]] = {}  # request → volunteers
        self.used = np.zeros(len(arrays.volunteer_ids), dtype=np.int64)
        for vid, rid in assignments:
            j, i = arrays.volunteer_at[vid], arrays.request_at[rid]
            self.add(j, i)

    def add(self, j: int, i: int) -> None:
        p = self.a.pair(j, i)
        if p < 0:
            raise ValueError(f"({self.a.volunteer_ids[j]!r}, {self.a.request_ids[i]!r}) is not a listed pair")
        self.on.setdefault(j, set()).add(i)
        self.members.setdefault(i, set()).add(j)
        self.used[j] += self.a.load[p]

    def remove(self, j: int, i: int) -> None:
        self.on[j].discard(i)
        self.members[i].discard(j)
        self.used[j] -= self.a.load[self.a.pair(j, i)]

    def count(self, i: int) -> int:
        return len(self.members.get(i, ()))

    def short(self, i: int) -> bool:
        return not self.a.team[i] and self.count(i) < self.a.needed[i]

    def fits(self, j: int, p: int, leaving: int = -1) -> bool:
        """Whether volunteer j could also take pair p's request, were ``leaving`` (a request) dropped."""
        a, i = self.a, int(self.a.pr[p])
        freed = a.load[a.pair(j, leaving)] if leaving >= 0 else 0
        if self.used[j] - freed + a.load[p] > a.capacity[j]:
            return False
        return not any(other != leaving and a.clash(i, other) for other in self.on.get(j, ()))

    def outside(self) -> list[tuple[int, int]]:
        """Every outside assignment of a panel member, in a fixed order."""
        a = self.a
        return sorted((j, i) for j, held in self.on.items() if a.on_panel[j] for i in held if not a.is_local(j, i))

    def instead(self, j: int, o: int) -> list[int]:
        """The pairs (positions) of j's short local requests, of priority at least o's, that j could
        take were o dropped: the rule's breaches by (j, o)."""
        a = self.a
        found = []
        for p in a.pairs_of(j).tolist():
            i = int(a.pr[p])
            if not a.local[p] or a.priority[i] < a.priority[o] or i in self.on.get(j, ()) or not self.short(i):
                continue
            if self.fits(j, p, leaving=o):
                found.append(p)
        return found

    def assignments(self) -> list[tuple[str, str]]:
        a = self.a
        return sorted(
            ((a.volunteer_ids[j], a.request_ids[i]) for j, held in self.on.items() for i in held),
            key=lambda pair: (pair[1], pair[0]),
        )


def local_first_violations(instance: Instance, assignments: Iterable[tuple[str, str]]) -> list[Violation]:
    """Every breach of the local-first rule and of the ring-fences by a plan (given as (volunteer id,
    request id) pairs, each a listed pair of the instance). Empty when the plan keeps the rule."""
    if not has_panels(instance):
        return []
    arrays = _Arrays(instance)
    state = _State(arrays, assignments)
    found = []
    for j, o in state.outside():
        vid, oid = arrays.volunteer_ids[j], arrays.request_ids[o]
        if arrays.fenced[j] and not arrays.urgent[o]:
            found.append(Violation("ring_fence", vid, oid))
        found += [
            Violation("local_first", vid, oid, arrays.request_ids[int(arrays.pr[p])]) for p in state.instead(j, o)
        ]
    return found


# ---- The repair -----------------------------------------------------------------------------------


def repair(instance: Instance, assignments: Sequence[tuple[str, str]]) -> Repaired:
    """A plan that keeps the local-first rule, from a valid one (see the module docstring): unchanged
    when it already does."""
    arrays = _Arrays(instance)
    state = _State(arrays, assignments)
    result = Repaired([])
    changed = True
    while changed:
        changed = False
        for j, o in state.outside():
            if o not in state.on.get(j, ()):
                continue  # dropped with its team by an earlier move of this pass
            options = state.instead(j, o)
            if not options:
                continue
            best = min(options, key=lambda p: (-arrays.priority[arrays.pr[p]], -arrays.score[p], int(arrays.pr[p])))
            if arrays.team[o]:
                for teammate in sorted(state.members[o]):
                    state.remove(teammate, o)
                result.teams_dropped += 1
            else:
                state.remove(j, o)
            state.add(j, int(arrays.pr[best]))
            result.moves += 1
            changed = True
    if result.moves:
        result.refilled = _fill(state)
    result.assignments = state.assignments()
    result.coverage = sum(int(arrays.priority[i]) * len(held) for i, held in state.members.items())
    result.score_milli = sum(int(arrays.score[arrays.pair(j, i)]) for j, held in state.on.items() for i in held)
    result.stats = {
        "local_first_moves": result.moves,
        "local_first_teams_dropped": result.teams_dropped,
        "local_first_refilled": result.refilled,
    }
    return result


def _fill(state: _State) -> int:
    """Fill free places greedily (highest priority first, then best score), only where no rule breaks:
    within capacity, no clash, a team only whole, and no panel member sent outside while a short local
    request of at least that priority could have them. Returns the places filled."""
    a = state.a
    by_request = np.lexsort((-a.score, a.pr))
    starts = np.searchsorted(a.pr[by_request], np.arange(len(a.request_ids) + 1))
    order = sorted(range(len(a.request_ids)), key=lambda i: (-int(a.priority[i]), a.request_ids[i]))
    filled = 0
    for i in order:
        free = int(a.needed[i]) - state.count(i)
        if free <= 0 or (a.team[i] and state.count(i)):
            continue
        chosen: list[int] = []
        for p in by_request[starts[i] : starts[i + 1]].tolist():
            j = int(a.pv[p])
            if a.priority[i] <= 0 and a.score[p] <= 0:
                continue  # adds neither coverage nor score
            if i in state.on.get(j, ()) or not state.fits(j, p):
                continue
            if a.on_panel[j] and not a.local[p] and (a.fenced[j] and not a.urgent[i] or _wanted_home(state, j, i)):
                continue
            chosen.append(j)
            if len(chosen) == free:
                break
        if a.team[i] and len(chosen) < free:
            continue
        for j in chosen:
            state.add(j, i)
        filled += len(chosen)
    return filled


def _wanted_home(state: _State, j: int, i: int) -> bool:
    """Whether a short local request of j's, of priority at least i's, could take j as things stand."""
    a = state.a
    return any(
        a.local[p]
        and a.priority[a.pr[p]] >= a.priority[i]
        and int(a.pr[p]) not in state.on.get(j, ())
        and state.short(int(a.pr[p]))
        and state.fits(j, p)
        for p in a.pairs_of(j).tolist()
    )


# ---- Why a local request was left short -----------------------------------------------------------


def elsewhere(instance: Instance, assignments: Iterable[tuple[str, str]]) -> list[Elsewhere]:
    """For each short request, the panel members of its ward who passed every rule for it but were given a
    request outside their panel wards, and why (``Elsewhere``). In a fixed order."""
    if not has_panels(instance):
        return []
    arrays = _Arrays(instance)
    state = _State(arrays, assignments)
    found = []
    for j, o in state.outside():
        for p in arrays.pairs_of(j).tolist():
            i = int(arrays.pr[p])
            if not arrays.local[p] or i in state.on.get(j, ()) or state.count(i) >= arrays.needed[i]:
                continue
            if arrays.team[i]:
                reason: Reason = "team"
            elif arrays.priority[o] > arrays.priority[i]:
                reason = "higher"
            else:
                reason = "busy"  # the rule would have moved them otherwise: they could not take both
            found.append(Elsewhere(arrays.request_ids[i], arrays.volunteer_ids[j], arrays.request_ids[o], reason))
    return sorted(found, key=lambda e: (e.request, e.volunteer, e.outside))
