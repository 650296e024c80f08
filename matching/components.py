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

from dataclasses import dataclass, field

from matching.instance import Instance


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
    clashes: list[tuple[int, int]] = field(default_factory=list)  # effective: local pair indices

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


@dataclass(slots=True)
class Decomposition:
    """The presolved instance as independent components, plus counts for the plan's stats."""

    components: list[Component]
    pairs_in: int
    pairs_kept: int
    clashes_in: int
    clashes_effective: int


def decompose(instance: Instance) -> Decomposition:
    """Presolve `instance` (see module docstring) and split it into independent components.

    Two pairs are in the same component when they share a volunteer or a request, directly
    or through other pairs. Clashes never join components: a clash only binds one
    volunteer's two pairs, which already share that volunteer.
    """
    volunteers = sorted(instance.volunteers, key=lambda v: v.id)
    requests = sorted(instance.requests, key=lambda r: r.id)
    volunteer_index = {v.id: i for i, v in enumerate(volunteers)}
    request_index = {r.id: i for i, r in enumerate(requests)}
    capacity = [v.capacity_milli for v in volunteers]
    needed = [r.needed for r in requests]
    priority = [r.priority for r in requests]
    strict = [r.all_or_nothing and r.needed > 1 for r in requests]

    candidates: list[tuple[int, int, int, int]] = []
    per_request = [0] * len(requests)
    for pair in instance.pairs:
        v = volunteer_index[pair.volunteer]
        r = request_index[pair.request]
        if pair.load_milli > capacity[v]:
            continue
        if not strict[r] and priority[r] == 0 and pair.score_milli <= 0:
            continue
        candidates.append((v, r, pair.load_milli, pair.score_milli))
        per_request[r] += 1
    kept = sorted(c for c in candidates if not strict[c[1]] or per_request[c[1]] >= needed[c[1]])

    # Union-find over volunteers (0..V-1) and requests (V..V+R-1), path halving.
    parent = list(range(len(volunteers) + len(requests)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    offset = len(volunteers)
    for v, r, _, _ in kept:
        a, b = find(v), find(offset + r)
        if a != b:
            parent[max(a, b)] = min(a, b)

    # Group pairs by root in order of first appearance: deterministic component order.
    group_of_root: dict[int, int] = {}
    groups: list[list[int]] = []
    for index, (v, _, _, _) in enumerate(kept):
        root = find(v)
        group = group_of_root.get(root)
        if group is None:
            group = group_of_root[root] = len(groups)
            groups.append([])
        groups[group].append(index)

    # Effective clashes, found from the smaller side so a popular request costs nothing extra.
    pairs_of_request: list[dict[int, int]] = [{} for _ in requests]
    for index, (v, r, _, _) in enumerate(kept):
        pairs_of_request[r][v] = index
    clashes_by_group: dict[int, list[tuple[int, int]]] = {}
    for first_id, second_id in instance.clashes:
        first = pairs_of_request[request_index[first_id]]
        second = pairs_of_request[request_index[second_id]]
        small, large = (first, second) if len(first) <= len(second) else (second, first)
        for v, a in small.items():
            b = large.get(v)
            if b is not None and kept[a][2] + kept[b][2] <= capacity[v]:
                group = group_of_root[find(v)]
                clashes_by_group.setdefault(group, []).append((min(a, b), max(a, b)))

    components = []
    effective = 0
    for group, members in enumerate(groups):
        local_v: dict[int, int] = {}
        local_r: dict[int, int] = {}
        local_pair = {}
        pv, pr, load, score = [], [], [], []
        for index in members:
            v, r, pair_load, pair_score = kept[index]
            local_pair[index] = len(pv)
            pv.append(local_v.setdefault(v, len(local_v)))
            pr.append(local_r.setdefault(r, len(local_r)))
            load.append(pair_load)
            score.append(pair_score)
        clashes = sorted((local_pair[a], local_pair[b]) for a, b in clashes_by_group.get(group, []))
        effective += len(clashes)
        components.append(
            Component(
                volunteer_ids=[volunteers[v].id for v in local_v],
                request_ids=[requests[r].id for r in local_r],
                capacity=[capacity[v] for v in local_v],
                needed=[needed[r] for r in local_r],
                priority=[priority[r] for r in local_r],
                all_or_nothing=[strict[r] for r in local_r],
                pair_volunteer=pv,
                pair_request=pr,
                load=load,
                score=score,
                clashes=clashes,
            )
        )
    return Decomposition(components, len(instance.pairs), len(kept), len(instance.clashes), effective)


def merge(components: list[Component]) -> Component:
    """Join independent components into one (to solve many small ones in a single model)."""
    if len(components) == 1:
        return components[0]
    merged = Component([], [], [], [], [], [], [], [], [], [], [])
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
        merged.clashes += [(a + p_offset, b + p_offset) for a, b in component.clashes]
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
