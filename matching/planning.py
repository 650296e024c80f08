"""From funnels to a solver instance, and from the solver's plan back to proposals. Pure.

Objective (the solver core optimises coverage strictly before score):
1. coverage — each place filled counts its request's priority weight (urgent 9, priority 3,
   routine 1), so one urgent place outweighs any number of routine ones up to 8;
2. quality, the score of each (volunteer, request) pair, to 3 decimals:
   continuity (the volunteer the sergeant asked for +1.0, served the ward before +0.5),
   skill level (+0.1 per level), proximity (+0.5 × the share of their travel limit left),
   the volunteer's preference for the task type (+0.2), stability (+0.05 to keep a pair proposed
   in the previous run), and fair spread (−0.01 per hour the volunteer is already booked that week).
Fair spread and stability are folded into the score, below every quality term in size, so they
only decide between otherwise equal plans (see docs/matching.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from matching.domain import RequestFacts, travel_minutes
from matching.funnel import FunnelResult
from matching.instance import Instance, Pair, Request, Volunteer

PRIORITY_WEIGHTS = {"routine": 1, "priority": 3, "urgent": 9}
# Each request's candidates given to the solver (see build_instance): as in bench/ (8 + 12 per place).
SHORTLIST_BASE, SHORTLIST_PER_PLACE = 8, 12


def pair_score(candidate, *, booked_minutes: int, limit_km: float, previous: bool) -> float:
    proximity = 0.0 if limit_km <= 0 else max(0.0, 1 - candidate.km / limit_km)
    score = 1.0 if candidate.requested else 0.5 if candidate.served_ward else 0.0
    score += 0.1 * candidate.skill_level + 0.5 * proximity + (0.2 if candidate.preferred_task else 0.0)
    score += 0.05 if previous else 0.0
    score -= 0.01 * (booked_minutes / 60)
    return round(score, 3)


def build_instance(
    requests: Sequence[RequestFacts],
    funnels: Mapping[int, FunnelResult],
    capacity_minutes: Mapping[int, int],
    booked_minutes: Mapping[int, int],
    travel_limits: Mapping[int, float],
    previous: Iterable[tuple[int, int]] = (),
) -> Instance:
    """The solver instance: for each request its best candidates (the shortlist, below); clashes where
    two requests overlap in time (with travel between them) and share a candidate.

    The shortlist keeps each request's ``SHORTLIST_BASE + SHORTLIST_PER_PLACE × places`` best-scoring
    candidates, and always the volunteer the sergeant asked for and last run's pairs. A ward's run has
    fewer candidates than that, so nothing is cut; a city's week has millions of eligible pairs, and a
    volunteer 30th in line for a request almost never fills it in an optimal plan (bench/RESULTS.md
    measures what it costs). The plan's proven bound is then the bound of the shortlisted instance.
    """
    kept = set(previous)
    by_id = {r.id: r for r in requests}
    pairs, candidate_requests = [], {}
    for request in requests:
        scored = []
        for candidate in funnels[request.id].candidates:
            score = pair_score(candidate, booked_minutes=booked_minutes.get(candidate.volunteer_id, 0),
                               limit_km=travel_limits.get(candidate.volunteer_id, 0),
                               previous=(request.id, candidate.volunteer_id) in kept)
            scored.append((score, candidate))
        room = SHORTLIST_BASE + SHORTLIST_PER_PLACE * request.people_needed
        if len(scored) > room:
            scored.sort(key=lambda pair: (-pair[0], pair[1].volunteer_id))
            scored = [pair for n, pair in enumerate(scored)
                      if n < room or pair[1].requested or (request.id, pair[1].volunteer_id) in kept]
        for score, candidate in scored:
            pairs.append(Pair(volunteer=f"v{candidate.volunteer_id}", request=f"r{request.id}",
                              load=candidate.load_minutes, score=score))
            candidate_requests.setdefault(candidate.volunteer_id, []).append((request.id, candidate.km))
    clashes = set()
    for options in candidate_requests.values():
        ordered = sorted(options, key=lambda o: by_id[o[0]].start)
        # The widest travel gap this volunteer could need: past it, nothing later can overlap.
        widest = timedelta(minutes=travel_minutes(max(km for _, km in ordered)))
        for i, (a, km_a) in enumerate(ordered):
            for b, km_b in ordered[i + 1 :]:
                if by_id[b].start >= by_id[a].end + widest:
                    break  # sorted by start: nothing later overlaps a either
                if by_id[b].start < by_id[a].end + timedelta(minutes=travel_minutes(max(km_a, km_b))):
                    clashes.add((f"r{min(a, b)}", f"r{max(a, b)}"))
    volunteers = sorted({int(p.volunteer[1:]) for p in pairs})
    return Instance(
        volunteers=tuple(Volunteer(id=f"v{v}", capacity=max(0, capacity_minutes.get(v, 0))) for v in volunteers),
        requests=tuple(
            Request(
                id=f"r{r.id}",
                needed=r.people_needed,
                priority=r.priority,
                all_or_nothing=r.all_or_nothing and r.people_needed > 1,
            )
            for r in requests
        ),
        pairs=tuple(pairs),
        clashes=tuple(sorted(clashes)),
    )


def proposals(plan) -> list[tuple[int, int]]:
    """(request id, volunteer id) for every assignment in a solver plan."""
    return [(int(a.request[1:]), int(a.volunteer[1:])) for a in plan.assignments]
