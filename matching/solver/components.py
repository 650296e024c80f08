"""Presolve an Instance and split it into independent components, in integer arrays.

Pure module. Everything here is linear (or n log n for sorting) in the size of the
instance: it has to run on a million pairs in a second or two.

Presolve removes only pairs that no optimal plan needs, so every plan of the reduced
problem is a plan of the original and the optima are equal:
- a pair whose load exceeds the volunteer's whole capacity can never be taken;
- an all-or-nothing request with fewer candidate pairs than `needed` can never be filled,
  so none of its pairs can be taken;
- on a request that is not all-or-nothing, a pair with priority 0 and score <= 0 adds
  nothing; every rule is "at most", so dropping it from any plan keeps the plan feasible.

Clashes are turned into *effective* clashes: a pair of pairs (same volunteer, the two
clashing requests) whose loads fit together in the volunteer's capacity. A clash that no
volunteer can break (nobody is paired with both requests, or nobody could fit both) is
already implied by the other rules and is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.solver.instance import SCALE, ClashColumns, Instance, PairColumns


class ClashRows(Sequence[tuple[int, int]]):
    """A component's clashes as its (n, 2) array, read as a list of (pair, pair) tuples would be. A city
    component has millions: building the tuples costs time and memory, for code that reads the array."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return list(self)[index]
        a, b = self.rows[index]
        return int(a), int(b)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.rows[:, 0].tolist(), self.rows[:, 1].tolist(), strict=True)

    def __eq__(self, other: object) -> bool:  # equal to a list of the same tuples, as Component compares them
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ClashRows({len(self)} clashes)"


@dataclass(slots=True)
class Component:
    """One independent sub-problem. Local indices throughout; `*_ids` map back to the instance.

    Pairs are sorted by (volunteer, request) so the same instance always builds the same
    arrays, whatever order the input listed things in.
    """

    volunteer_ids: list[str]
    request_ids: list[str]
    capacity: list[int]  # thousandths, per local volunteer
    needed: list[int]
    priority: list[int]
    all_or_nothing: list[bool]  # True only when needed > 1 (needed == 1 is the same as free choice)
    pair_volunteer: list[int]
    pair_request: list[int]
    load: list[int]  # thousandths
    score: list[int]  # thousandths
    clashes: Sequence[tuple[int, int]] = field(default_factory=list)  # effective: local pair indices
    # `clashes` as an (n, 2) array, when whoever built the component had it at hand (decompose):
    # a city component has millions of clashes, and converting the list back costs seconds.
    clash_array: np.ndarray | None = field(default=None, repr=False, compare=False)
    # What ``clash_partners`` returns, kept once built: the greedy plans and the local search all ask.
    partners: tuple[list[int], list[int]] | None = field(default=None, repr=False, compare=False)
    # Each request's pairs best score first, kept once built by ``heuristics._ranked_options`` (read, never changed).
    ranked: list[list[int]] | None = field(default=None, repr=False, compare=False)

    @property
    def num_pairs(self) -> int:
        """How many pairs the component holds (its size for time sharing)."""
        return len(self.pair_volunteer)

    def unit_capacities(self) -> list[int | None]:
        """Per volunteer, how many positive-load pairs they can take, or None if that depends
        on which pairs (mixed loads that do not all fit: a knapsack, not a count).

        Zero-load pairs never use capacity and are not counted here.
        """
        total = [0] * len(self.volunteer_ids)
        common: list[int | None] = [0] * len(self.volunteer_ids)
        count = [0] * len(self.volunteer_ids)
        mixed = [False] * len(self.volunteer_ids)
        for volunteer, load in zip(self.pair_volunteer, self.load, strict=True):
            if load == 0:
                continue
            total[volunteer] += load
            count[volunteer] += 1
            if common[volunteer] == 0:
                common[volunteer] = load
            elif common[volunteer] != load:
                mixed[volunteer] = True
        units: list[int | None] = []
        for volunteer, capacity in enumerate(self.capacity):
            load = common[volunteer]
            if total[volunteer] <= capacity:
                units.append(count[volunteer])  # capacity cannot bind
            elif mixed[volunteer] or not load:
                units.append(None)
            else:
                units.append(capacity // load)
        return units

    def has_all_or_nothing(self) -> bool:
        """Whether some request here must be filled completely or not at all (needed > 1)."""
        return any(self.all_or_nothing)


class ComponentArrays:
    """A component's lists as numpy arrays, converted once (sub-components are cut from these)."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.pv = np.array(component.pair_volunteer, dtype=np.int64)
        self.pr = np.array(component.pair_request, dtype=np.int64)
        self.load = np.array(component.load, dtype=np.int64)
        self.score = np.array(component.score, dtype=np.int64)
        self.capacity = np.array(component.capacity, dtype=np.int64)
        self.needed = np.array(component.needed, dtype=np.int64)
        self.priority = np.array(component.priority, dtype=np.int64)
        self.strict = np.array(component.all_or_nothing, dtype=bool)
        if component.clash_array is not None and len(component.clash_array) == len(component.clashes):
            self.clashes = component.clash_array
        else:
            self.clashes = np.array(component.clashes, dtype=np.int64).reshape(-1, 2)
        self.volunteer_ids = np.array(component.volunteer_ids, dtype=object)
        self.request_ids = np.array(component.request_ids, dtype=object)
        self._position: np.ndarray | None = None  # sub()'s scratch

    def sub(
        self,
        pairs: np.ndarray,
        *,
        capacity: np.ndarray | None = None,
        needed: np.ndarray | None = None,
        clash_rows: np.ndarray | None = None,
    ) -> Component:
        """The component restricted to `pairs` (sorted pair indices), with local indices.

        `clash_rows`, if given, are the rows of `clashes` that can lie inside `pairs` (a superset of
        them): only those are looked at, which saves scanning every clash for each small part."""
        pv, pr = self.pv[pairs], self.pr[pairs]
        volunteers, local_v = np.unique(pv, return_inverse=True)
        requests, local_r = np.unique(pr, return_inverse=True)
        capacity = self.capacity if capacity is None else capacity
        needed = self.needed if needed is None else needed
        clash_array = np.zeros((0, 2), dtype=np.int64)
        if len(self.clashes):
            # Each pair's place in `pairs`, -1 outside: one array, set and reset for each call (a city's
            # entries, one per pair, filled afresh cost more than a small part's own work). Not thread-safe.
            if self._position is None:
                self._position = np.full(len(self.pv), -1, dtype=np.int64)
            position = self._position
            position[pairs] = np.arange(len(pairs))
            candidates = self.clashes if clash_rows is None else self.clashes[clash_rows]
            a, b = position[candidates[:, 0]], position[candidates[:, 1]]
            position[pairs] = -1
            keep = (a >= 0) & (b >= 0)
            a, b = a[keep], b[keep]
            order = np.lexsort((b, a))  # sorted as (a, b) tuples sort
            clash_array = np.stack([a[order], b[order]], axis=1)
        return Component(
            volunteer_ids=self.volunteer_ids[volunteers].tolist(),
            request_ids=self.request_ids[requests].tolist(),
            capacity=capacity[volunteers].tolist(),
            needed=needed[requests].tolist(),
            priority=self.priority[requests].tolist(),
            all_or_nothing=self.strict[requests].tolist(),
            pair_volunteer=local_v.reshape(-1).tolist(),
            pair_request=local_r.reshape(-1).tolist(),
            load=self.load[pairs].tolist(),
            score=self.score[pairs].tolist(),
            clashes=ClashRows(clash_array),
            clash_array=clash_array,
        )


@dataclass(slots=True)
class Decomposition:
    """The presolved instance as independent components, plus counts for the plan's stats."""

    components: list[Component]
    pairs_in: int
    pairs_kept: int
    clashes_in: int
    clashes_effective: int


# Clashes are looked up in a bitmap of every (request, request) while it takes at most this many bits
# (256 MiB: a week of up to ~46,000 requests; London's has 20,000), else by binary search.
CLASH_BITMAP_BITS = 1 << 31
# Pairs of pairs looked at per slice when finding effective clashes from the volunteers' side.
EFFECTIVE_SLICE = 1 << 20


def decompose(instance: Instance) -> Decomposition:
    """Presolve `instance` (see module docstring) and split it into independent components.

    Two pairs are in the same component when they share a volunteer or a request, directly
    or through other pairs. Clashes never join components: a clash only binds one
    volunteer's two pairs, which already share that volunteer.

    Vectorised with numpy (a city week has ~10^6 pairs): the Python work is one pass to read
    the pairs and one small step per component to hand it over as lists.
    """
    volunteers = sorted(instance.volunteers, key=lambda v: v.id)
    requests = sorted(instance.requests, key=lambda r: r.id)
    volunteer_index = {v.id: i for i, v in enumerate(volunteers)}
    request_index = {r.id: i for i, r in enumerate(requests)}
    num_v, num_r = len(volunteers), len(requests)
    capacity = np.array([v.capacity_milli for v in volunteers], dtype=np.int64)
    needed = np.array([r.needed for r in requests], dtype=np.int64)
    priority = np.array([r.priority for r in requests], dtype=np.int64)
    strict = np.array([r.all_or_nothing and r.needed > 1 for r in requests], dtype=bool)

    pairs = instance.pairs
    count = len(pairs)
    if isinstance(pairs, PairColumns):  # a builder's columns: indices into the instance's own tuples
        pv = _ranks([v.id for v in instance.volunteers])[pairs.volunteer_at]
        pr = _ranks([r.id for r in instance.requests])[pairs.request_at]
        load, score = pairs.load.astype(np.int64) * SCALE, pairs.score_milli.astype(np.int64)
    else:
        pv = np.fromiter((volunteer_index[p.volunteer] for p in pairs), dtype=np.int64, count=count)
        pr = np.fromiter((request_index[p.request] for p in pairs), dtype=np.int64, count=count)
        load = np.fromiter((p.load_milli for p in pairs), dtype=np.int64, count=count)
        score = np.fromiter((p.score_milli for p in pairs), dtype=np.int64, count=count)
    keep = (load <= capacity[pv]) & (strict[pr] | (priority[pr] > 0) | (score > 0))
    per_request = np.bincount(pr[keep], minlength=num_r)
    keep &= ~strict[pr] | (per_request[pr] >= needed[pr])
    kept = np.flatnonzero(keep)
    kept = kept[lexorder(pv[kept], pr[kept])]  # sorted by (volunteer, request): input order never matters
    kv, kr, kl, ks = pv[kept], pr[kept], load[kept], score[kept]

    label = _connected(kv, num_v + kr, num_v + num_r)
    # Components in order of their first pair (pairs are sorted), pairs in order within each.
    roots, first = np.unique(label[kv], return_index=True)
    rank = np.empty(num_v + num_r, dtype=np.int64)
    rank[roots[np.argsort(first, kind="stable")]] = np.arange(len(roots))
    group = rank[label[kv]]
    members = np.argsort(group, kind="stable")  # kept positions, component by component
    bounds = np.searchsorted(group[members], np.arange(len(roots) + 1))
    position = np.empty(len(kept), dtype=np.int64)
    position[members] = np.arange(len(kept))  # where each kept pair lands in `members`

    clashes = _effective_clashes(instance, request_index, kv, kr, kl, capacity, num_r)
    effective = len(clashes)
    clash_group = group[clashes[:, 0]] if effective else np.zeros(0, dtype=np.int64)
    clash_order = lexorder(clash_group, position[clashes[:, 0]], position[clashes[:, 1]]) if effective else []
    clashes = clashes[clash_order] if effective else clashes
    clash_bounds = np.searchsorted(clash_group[clash_order], np.arange(len(roots) + 1)) if effective else None

    ids_v = [v.id for v in volunteers]
    ids_r = [r.id for r in requests]
    components = []
    for g in range(len(roots)):
        rows = members[bounds[g] : bounds[g + 1]]
        mv, mr = kv[rows], kr[rows]
        local_v, vol = _first_seen(mv)
        local_r, req = _first_seen(mr)
        local = np.zeros((0, 2), dtype=np.int64)
        if effective and clash_bounds[g + 1] > clash_bounds[g]:
            block = clashes[clash_bounds[g] : clash_bounds[g + 1]]
            local = position[block] - bounds[g]
            # Already in order (sorted by both positions above): sort only if that ever stops holding.
            keys = local[:, 0] * len(rows) + local[:, 1]
            if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
                local = local[np.lexsort((local[:, 1], local[:, 0]))]
        components.append(
            Component(
                volunteer_ids=[ids_v[v] for v in vol.tolist()],
                request_ids=[ids_r[r] for r in req.tolist()],
                capacity=capacity[vol].tolist(),
                needed=needed[req].tolist(),
                priority=priority[req].tolist(),
                all_or_nothing=strict[req].tolist(),
                pair_volunteer=local_v.tolist(),
                pair_request=local_r.tolist(),
                load=kl[rows].tolist(),
                score=ks[rows].tolist(),
                clashes=ClashRows(local),
                clash_array=local,
            )
        )
    return Decomposition(components, count, len(kept), len(instance.clashes), effective)


def _ranks(ids: list[str]) -> np.ndarray:
    """Each id's position once the ids are sorted."""
    rank = np.empty(len(ids), dtype=np.int64)
    rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    return rank


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(local index of each value by order of first appearance, the distinct values in that order)."""
    distinct, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    local = np.empty(len(distinct), dtype=np.int64)
    local[order] = np.arange(len(distinct))
    return local[inverse.reshape(-1)], distinct[order]


def _connected(a: np.ndarray, b: np.ndarray, nodes: int) -> np.ndarray:
    """Connected components of the graph with edges a[i]-b[i]: the smallest node of each one."""
    label = np.arange(nodes, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        while True:  # pointer jumping: every node straight to its current root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


def _effective_clashes(
    instance: Instance,
    request_index: dict[str, int],
    kv: np.ndarray,
    kr: np.ndarray,
    kl: np.ndarray,
    capacity: np.ndarray,
    num_r: int,
) -> np.ndarray:
    """(n, 2) kept-pair positions (smaller first) of every effective clash: one volunteer paired
    with both requests of a clash, with both loads fitting. Found from the smaller side."""
    if not instance.clashes or not len(kv):
        return np.zeros((0, 2), dtype=np.int64)
    if isinstance(instance.clashes, ClashColumns):
        rank = _ranks([r.id for r in instance.requests])
        first, second = rank[instance.clashes.first_at], rank[instance.clashes.second_at]
    else:
        count = len(instance.clashes)
        first = np.fromiter((request_index[c[0]] for c in instance.clashes), dtype=np.int64, count=count)
        second = np.fromiter((request_index[c[1]] for c in instance.clashes), dtype=np.int64, count=count)
    per_request = np.bincount(kr, minlength=num_r)
    # Two ways to find them, the same set either way: from each clash, the pairs of its request with
    # fewer candidates; or from each volunteer, every two of their own pairs. The cheaper one is used
    # (a city week: over a million clashes, but fewer than ten pairs per volunteer).
    per_volunteer = np.bincount(kv)
    if _volunteer_side_cheaper(per_volunteer, per_request[first], per_request[second]):
        return _effective_by_volunteer(first, second, kv, kr, kl, capacity, num_r, per_volunteer)
    by_request = np.lexsort((kv, kr))
    start = np.concatenate(([0], np.cumsum(per_request)))
    small = np.where(per_request[first] <= per_request[second], first, second)
    large = np.where(small == first, second, first)
    counts = per_request[small]
    which, offset = ragged(counts)
    a = by_request[start[small][which] + offset]
    keys = kv * num_r + kr  # ascending: kept pairs are sorted by (volunteer, request)
    wanted = kv[a] * num_r + large[which]
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = (keys[at] == wanted) & (kl[a] + kl[at] <= capacity[kv[a]])
    a, b = a[found], at[found]
    return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)


def _volunteer_side_cheaper(
    per_volunteer: np.ndarray, first_candidates: np.ndarray, second_candidates: np.ndarray
) -> bool:
    """Whether every two pairs of each volunteer are fewer to check than the smaller side of each clash."""
    return int((per_volunteer * (per_volunteer - 1) // 2).sum()) < int(
        np.minimum(first_candidates, second_candidates).sum()
    )


def _effective_by_volunteer(
    first: np.ndarray,
    second: np.ndarray,
    kv: np.ndarray,
    kr: np.ndarray,
    kl: np.ndarray,
    capacity: np.ndarray,
    num_r: int,
    per_volunteer: np.ndarray,
) -> np.ndarray:
    """``_effective_clashes`` found from the volunteers' side: every two pairs of one volunteer whose
    requests clash and whose loads fit together. Kept pairs are sorted by (volunteer, request)."""
    ends = np.cumsum(per_volunteer)[kv]  # one past each pair's volunteer's last pair
    counts = ends - np.arange(len(kv)) - 1
    total = int(counts.sum())
    if total == 0:
        return np.zeros((0, 2), dtype=np.int64)
    clash_keys = np.minimum(first, second) * num_r + np.maximum(first, second)
    if num_r * num_r <= CLASH_BITMAP_BITS:
        # One bit per (request, request): a lookup is one read, several times faster than a binary search
        # over a city week's million-plus clashes for each of its millions of pairs of pairs.
        bits = np.zeros((num_r * num_r + 7) // 8, dtype=np.uint8)
        np.bitwise_or.at(bits, clash_keys >> 3, np.left_shift(1, clash_keys & 7).astype(np.uint8))

        def clash(wanted: np.ndarray) -> np.ndarray:
            return ((bits[wanted >> 3] >> (wanted & 7).astype(np.uint8)) & 1).astype(bool)
    else:
        if len(clash_keys) > 1 and not (clash_keys[1:] > clash_keys[:-1]).all():  # an Instance keeps them sorted
            clash_keys = np.unique(clash_keys)

        def clash(wanted: np.ndarray) -> np.ndarray:
            at = np.minimum(np.searchsorted(clash_keys, wanted), len(clash_keys) - 1)
            return clash_keys[at] == wanted

    # In slices of about EFFECTIVE_SLICE pairs of pairs: arrays of a city's millions at once are fresh
    # memory every time (page faults cost more than the lookups), slices reuse the same few megabytes.
    found: list[np.ndarray] = []
    cuts = np.searchsorted(np.cumsum(counts), np.arange(EFFECTIVE_SLICE, total, EFFECTIVE_SLICE), side="right")
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(kv)], strict=True):
        which, offset = ragged(counts[lo:hi])
        a = lo + which
        b = a + 1 + offset
        hit = clash(kr[a] * num_r + kr[b])  # kr[a] < kr[b]: a volunteer's pairs are sorted by request
        a, b = a[hit], b[hit]
        fit = kl[a] + kl[b] <= capacity[kv[a]]
        found.append(np.stack([a[fit], b[fit]], axis=1))
    return np.concatenate(found)


def merge(components: list[Component]) -> Component:
    """Join independent components into one (to solve many small ones in a single model)."""
    if len(components) == 1:
        return components[0]
    merged = Component([], [], [], [], [], [], [], [], [], [], [])
    clashes: list[tuple[int, int]] = []
    for component in components:
        v_offset, r_offset, p_offset = len(merged.volunteer_ids), len(merged.request_ids), merged.num_pairs
        merged.volunteer_ids += component.volunteer_ids
        merged.request_ids += component.request_ids
        merged.capacity += component.capacity
        merged.needed += component.needed
        merged.priority += component.priority
        merged.all_or_nothing += component.all_or_nothing
        merged.pair_volunteer += [v + v_offset for v in component.pair_volunteer]
        merged.pair_request += [r + r_offset for r in component.pair_request]
        merged.load += component.load
        merged.score += component.score
        clashes += [(a + p_offset, b + p_offset) for a, b in component.clashes]
    merged.clashes = clashes
    return merged


@dataclass(slots=True)
class Outcome:
    """What a path found for one component (or a merged batch of them).

    `bound_coverage`/`bound_score` are upper bounds on the lexicographically optimal plan's
    coverage and score (thousandths); equal to the plan's values when `optimal`.
    """

    chosen: list[int]  # local pair indices
    bound_coverage: int
    bound_score: int
    optimal: bool
    deterministic_time: float = 0.0
    wall_limit_hit: bool = False


def value(component: Component, chosen: list[int]) -> tuple[int, int]:
    """(coverage, score in thousandths) that the chosen pairs add up to."""
    priority = component.priority
    return (sum(priority[component.pair_request[p]] for p in chosen), sum(component.score[p] for p in chosen))


def trivial_bounds(component: Component) -> tuple[int, int]:
    """Cheap upper bounds valid for every plan: each request filled from its best pairs.

    Coverage: priority × min(needed, candidates) per request. Score: the sum of each
    request's `needed` best positive scores. Used when CP-SAT has nothing better to offer.
    """
    scores: list[list[int]] = [[] for _ in component.request_ids]
    for request, score in zip(component.pair_request, component.score, strict=True):
        scores[request].append(score)
    coverage = score_bound = 0
    for request, options in enumerate(scores):
        places = min(component.needed[request], len(options))
        coverage += component.priority[request] * places
        score_bound += sum(s for s in sorted(options, reverse=True)[:places] if s > 0)
    return coverage, score_bound


def clash_partners(component: Component) -> tuple[list[int], list[int]]:
    """Each pair's clash partners, as offsets and one flat list: pair p's are
    ``partners[start[p]:start[p + 1]]``. Built with numpy: a city component has millions of clashes,
    and a dict of lists built clash by clash took over a second each time it was needed. Built once
    per component (the clashes of a component do not change once it is built)."""
    if component.partners is not None:
        return component.partners
    n = component.num_pairs
    if component.clash_array is not None and len(component.clash_array) == len(component.clashes):
        edges = component.clash_array
    else:
        edges = np.array(component.clashes, dtype=np.int64).reshape(-1, 2)
    owner = np.concatenate([edges[:, 0], edges[:, 1]])
    other = np.concatenate([edges[:, 1], edges[:, 0]])
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=start[1:])
    component.partners = (start.tolist(), other[np.argsort(owner, kind="stable")].tolist())
    return component.partners


def lexorder(*keys: np.ndarray) -> np.ndarray:
    """The stable order by keys[0], then keys[1], … (integer arrays of one length): what
    ``np.lexsort(keys[::-1])`` gives. Through one combined int64 key and one stable argsort where their
    ranges fit in 62 bits: numpy's lexsort sorts once per key, and one sort of a city week's millions of
    candidates by a combined key is many times faster. Otherwise lexsort itself."""
    if not keys or not len(keys[0]):
        return np.lexsort(keys[::-1]) if keys else np.zeros(0, dtype=np.int64)
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    span = 1
    for key in reversed(keys):  # the least significant first
        low, high = int(key.min()), int(key.max())
        if span * (high - low + 1) >= 1 << 62:
            return np.lexsort(keys[::-1])
        combined += (key.astype(np.int64) - low) * span
        span *= high - low + 1
    return np.argsort(combined, kind="stable")


def ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index pairs of a ragged loop ``for i: for k in range(counts[i])`` without a Python loop:
    each ``i`` repeated ``counts[i]`` times, and beside it ``k`` = 0, 1, …, ``counts[i]`` − 1."""
    which = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(len(which)) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, offset
