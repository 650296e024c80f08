"""The solver's input: volunteers, requests, the pairs allowed between them, and clashes.

Pure module (no Flask, no ORM). Every dataclass validates itself when built, so an
`Instance` that exists is a valid one, whether it came from JSON (`parse_instance`) or was
assembled in code from the product's own models.

Decimal quantities (loads, capacities, scores) are held as the caller gave them and also as
exact integers in thousandths (`*_milli`), which is what the solver works with: floats never
reach the optimiser, so no rounding can change which plan wins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

DECIMALS = 3
SCALE = 10**DECIMALS
"""Loads, capacities and scores are exact in thousandths (three decimal places)."""

# Ranges keep every sum the solvers form far inside 64-bit integers, even at city scale
# (a million pairs): loads/capacities <= 1e9 thousandths, scores <= 1e9 thousandths each.
MAX_AMOUNT = 10**6
MAX_ABS_SCORE = 10**6
MAX_PRIORITY = 10**6
MAX_NEEDED = 10**6

Number = int | float | Decimal


class InstanceError(ValueError):
    """An instance that breaks the format; `message` names the offending item."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def to_milli(value: object, what: str, *, minimum: int, maximum: int) -> int:
    """Return `value` × 1000 as an exact int, or raise InstanceError naming `what`.

    Accepts int, float and Decimal (never bool, which Python counts as an int). A float is
    read through its shortest repr, so 2.675 means 2.675, not the binary number nearest to it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InstanceError(f"{what} must be a number, got {value!r}")
    if isinstance(value, int):
        if not minimum <= value <= maximum:
            raise InstanceError(f"{what} must be between {minimum} and {maximum}, got {value!r}")
        return value * SCALE
    if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
        raise InstanceError(f"{what} must be a finite number, got {value!r}")
    if not minimum <= value <= maximum:
        raise InstanceError(f"{what} must be between {minimum} and {maximum}, got {value!r}")
    if isinstance(value, float):
        if value.is_integer():
            return int(value) * SCALE
        # Fast path, same answer as the Decimal route below: a float whose shortest repr has at
        # most 3 decimals is exactly the float nearest to k/1000, and then k/1000 gives it back.
        scaled = round(value * SCALE)
        if scaled / SCALE == value:
            return scaled
    exact = (Decimal(repr(value)) if isinstance(value, float) else value).scaleb(DECIMALS)
    scaled = int(exact)
    if scaled != exact:
        raise InstanceError(f"{what} has more than {DECIMALS} decimal places: {value!r}")
    return scaled


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise InstanceError(f"{what} id must be a non-empty string, got {value!r}")


def _ward_set(wards: object, what: str) -> frozenset[str]:
    """A set of ward ids (non-empty strings), from any list of them."""
    if isinstance(wards, str | bytes | Mapping) or not isinstance(wards, Iterable):
        raise InstanceError(f"{what} must be a list of ward ids, got {type(wards).__name__}")
    found = frozenset(wards)
    for ward in found:
        if type(ward) is not str or not ward:
            raise InstanceError(f"{what}: a ward id must be a non-empty string, got {ward!r}")
    return found


def _check_whole(value: object, what: str, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(f"{what} must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise InstanceError(f"{what} must be between {minimum} and {maximum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Volunteer:
    """Someone who can take places, up to `capacity` total load (same unit as pair loads).

    `panel_wards`: the wards whose panel they sit on (empty for most instances). The local-first rule
    (matching/solver/local_first.py) keeps them for those wards' requests first."""

    id: str
    capacity: Number
    panel_wards: frozenset[str] = frozenset()
    capacity_milli: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_id(self.id, "volunteer")
        if self.panel_wards or type(self.panel_wards) is not frozenset:  # most volunteers: the empty default
            object.__setattr__(self, "panel_wards", _ward_set(self.panel_wards, f"volunteer {self.id!r}: panel_wards"))
        capacity = self.capacity
        if type(capacity) is int and 0 <= capacity <= MAX_AMOUNT:  # the usual case, without building a message
            milli = capacity * SCALE
        else:
            milli = to_milli(capacity, f"volunteer {self.id!r}: capacity", minimum=0, maximum=MAX_AMOUNT)
        object.__setattr__(self, "capacity_milli", milli)


@dataclass(frozen=True, slots=True)
class Request:
    """A need for `needed` people; each place filled is worth `priority` coverage.

    `all_or_nothing` requests get exactly 0 or `needed` people (a visit that needs two).
    `ward` (optional) is where it is, for the local-first rule; `urgent` lets the panel of a ring-fenced
    ward leave its wards for it.
    """

    id: str
    needed: int
    priority: int
    all_or_nothing: bool = False
    ward: str | None = None
    urgent: bool = False

    def __post_init__(self) -> None:
        _check_id(self.id, "request")
        # Messages are built only for a value that fails (a city week makes 20,000 requests).
        if not (type(self.needed) is int and 1 <= self.needed <= MAX_NEEDED):
            _check_whole(self.needed, f"request {self.id!r}: needed", 1, MAX_NEEDED)
        if not (type(self.priority) is int and 0 <= self.priority <= MAX_PRIORITY):
            _check_whole(self.priority, f"request {self.id!r}: priority", 0, MAX_PRIORITY)
        if not isinstance(self.all_or_nothing, bool):
            raise InstanceError(
                f"request {self.id!r}: all_or_nothing must be true or false, got {self.all_or_nothing!r}"
            )
        if self.ward is not None and (type(self.ward) is not str or not self.ward):
            raise InstanceError(f"request {self.id!r}: ward must be a non-empty string, got {self.ward!r}")
        if not isinstance(self.urgent, bool):
            raise InstanceError(f"request {self.id!r}: urgent must be true or false, got {self.urgent!r}")


@dataclass(frozen=True, slots=True)
class Pair:
    """An allowed match: taking it uses `load` of the volunteer's capacity and earns `score`."""

    volunteer: str
    request: str
    load: Number
    score: Number
    load_milli: int = field(init=False, repr=False, compare=False)
    score_milli: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_id(self.volunteer, "pair: volunteer")
        _check_id(self.request, "pair: request")
        name = f"pair ({self.volunteer!r}, {self.request!r})"
        object.__setattr__(self, "load_milli", to_milli(self.load, f"{name}: load", minimum=0, maximum=MAX_AMOUNT))
        object.__setattr__(
            self, "score_milli", to_milli(self.score, f"{name}: score", minimum=-MAX_ABS_SCORE, maximum=MAX_ABS_SCORE)
        )

    @classmethod
    def from_minutes_and_milli(cls, volunteer: str, request: str, load: int, score_milli: int) -> Pair:
        """A pair with a whole-number load and a score given in thousandths, built without the generic
        checks (a city week builds hundreds of thousands): the caller guarantees non-empty ids, a load
        in 0..MAX_AMOUNT and a score in ±MAX_ABS_SCORE × 1000. ``score`` is then the float nearest
        ``score_milli / 1000``, exactly what ``round(x, 3)`` would have given."""
        pair = object.__new__(cls)
        _PAIR_SLOTS[0](pair, volunteer)
        _PAIR_SLOTS[1](pair, request)
        _PAIR_SLOTS[2](pair, load)
        _PAIR_SLOTS[3](pair, score_milli / SCALE)
        _PAIR_SLOTS[4](pair, load * SCALE)
        _PAIR_SLOTS[5](pair, score_milli)
        return pair


# The slots' own setters (a frozen dataclass refuses setattr): used by Pair.from_minutes_and_milli.
_PAIR_SLOTS = tuple(
    Pair.__dict__[name].__set__ for name in ("volunteer", "request", "load", "score", "load_milli", "score_milli")
)


class PairColumns(Sequence[Pair]):
    """An instance's pairs held as columns, as a builder of a city week has them (hundreds of thousands):
    each pair is a volunteer and a request by position in the instance's tuples, a whole-number load
    and a score in thousandths (as ``Pair.from_minutes_and_milli``). A ``Pair`` is made only when one is
    read; ``decompose`` reads the columns themselves."""

    def __init__(
        self,
        volunteers: tuple[Volunteer, ...],
        requests: tuple[Request, ...],
        volunteer_at: np.ndarray,
        request_at: np.ndarray,
        load: np.ndarray,
        score_milli: np.ndarray,
    ) -> None:
        self.volunteers, self.requests = volunteers, requests
        self.volunteer_at, self.request_at, self.load, self.score_milli = volunteer_at, request_at, load, score_milli

    def __len__(self) -> int:
        return len(self.volunteer_at)

    def __getitem__(self, index):  # type: ignore[override]  (an int gives a Pair, a slice a tuple)
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return Pair.from_minutes_and_milli(
            self.volunteers[int(self.volunteer_at[index])].id,
            self.requests[int(self.request_at[index])].id,
            int(self.load[index]),
            int(self.score_milli[index]),
        )

    def __eq__(self, other: object) -> bool:  # equal to a tuple of the same items, as Instance compares them
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Pair]:
        exact = Pair.from_minutes_and_milli
        volunteers, requests = [v.id for v in self.volunteers], [r.id for r in self.requests]
        for v, r, load, score in zip(
            self.volunteer_at.tolist(),
            self.request_at.tolist(),
            self.load.tolist(),
            self.score_milli.tolist(),
            strict=True,
        ):
            yield exact(volunteers[v], requests[r], load, score)


class ClashColumns(Sequence[tuple[str, str]]):
    """An instance's clashes held as columns: the two requests by position in the instance's tuple,
    rows in the order of the normalised ``(first, second)`` id tuples (``first < second``)."""

    def __init__(self, requests: tuple[Request, ...], first_at: np.ndarray, second_at: np.ndarray) -> None:
        self.requests, self.first_at, self.second_at = requests, first_at, second_at

    def __len__(self) -> int:
        return len(self.first_at)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return (self.requests[int(self.first_at[index])].id, self.requests[int(self.second_at[index])].id)

    def __eq__(self, other: object) -> bool:  # equal to a tuple of the same items, as Instance compares them
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        names = [r.id for r in self.requests]
        return zip(
            map(names.__getitem__, self.first_at.tolist()), map(names.__getitem__, self.second_at.tolist()), strict=True
        )


@dataclass(frozen=True)
class Instance:
    """A whole matching problem. Built from any iterables; stored as tuples.

    Clashes are normalised: each becomes a sorted (request, request) tuple, duplicates
    dropped, the list sorted — order never changes the meaning of a clash.

    `ring_fenced`: wards whose panel members leave their panel wards only for urgent requests.
    """

    volunteers: tuple[Volunteer, ...]
    requests: tuple[Request, ...]
    pairs: tuple[Pair, ...]
    clashes: tuple[tuple[str, str], ...] = ()
    ring_fenced: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        volunteers = _tuple_of(self.volunteers, Volunteer, "volunteers")
        requests = _tuple_of(self.requests, Request, "requests")
        pairs = _tuple_of(self.pairs, Pair, "pairs")
        volunteer_ids = _unique_ids(volunteers, "volunteer")
        request_ids = _unique_ids(requests, "request")
        seen_pairs: set[tuple[str, str]] = set()
        for pair in pairs:
            if pair.volunteer not in volunteer_ids:
                raise InstanceError(
                    f"pair ({pair.volunteer!r}, {pair.request!r}): unknown volunteer {pair.volunteer!r}"
                )
            if pair.request not in request_ids:
                raise InstanceError(f"pair ({pair.volunteer!r}, {pair.request!r}): unknown request {pair.request!r}")
            key = (pair.volunteer, pair.request)
            if key in seen_pairs:
                raise InstanceError(f"pair ({pair.volunteer!r}, {pair.request!r}) is listed twice")
            seen_pairs.add(key)
        clashes = sorted({_clash(clash, request_ids) for clash in _iterable(self.clashes, "clashes")})
        object.__setattr__(self, "volunteers", volunteers)
        object.__setattr__(self, "requests", requests)
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "clashes", tuple(clashes))
        object.__setattr__(self, "ring_fenced", _ward_set(self.ring_fenced, "ring_fenced"))

    @classmethod
    def trusted(
        cls,
        volunteers: tuple[Volunteer, ...],
        requests: tuple[Request, ...],
        pairs: tuple[Pair, ...] | PairColumns,
        clashes: tuple[tuple[str, str], ...] | ClashColumns,
        ring_fenced: frozenset[str] = frozenset(),
    ) -> Instance:
        """An Instance from parts the caller has already made valid, without checking them again.

        For builders that guarantee every rule by construction (``matching.planning``): unique ids,
        pairs naming listed volunteers and requests once each, clashes as sorted, distinct
        ``(first, second)`` tuples with ``first < second`` naming two listed requests. At city scale
        the checks cost seconds (hundreds of thousands of pairs, over a million clashes). The items
        themselves (``Volunteer``, ``Request``, ``Pair``) still check themselves when built. Pairs and
        clashes may come as columns (``PairColumns``, ``ClashColumns``), read the same way as tuples.
        """
        instance = object.__new__(cls)
        object.__setattr__(instance, "volunteers", volunteers)
        object.__setattr__(instance, "requests", requests)
        object.__setattr__(instance, "pairs", pairs)
        object.__setattr__(instance, "clashes", clashes)
        object.__setattr__(instance, "ring_fenced", ring_fenced)
        return instance


def _iterable(items: object, what: str) -> Iterable[Any]:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise InstanceError(f"{what} must be a list, got {type(items).__name__}")
    return items


def _tuple_of(items: object, kind: type, what: str) -> tuple[Any, ...]:
    result = tuple(_iterable(items, what))
    for position, item in enumerate(result):
        if not isinstance(item, kind):
            raise InstanceError(f"{what}[{position}] must be a {kind.__name__}, got {type(item).__name__}")
    return result


def _unique_ids(items: tuple[Volunteer, ...] | tuple[Request, ...], what: str) -> set[str]:
    ids: set[str] = set()
    for item in items:
        if item.id in ids:
            raise InstanceError(f"{what} id {item.id!r} is used twice")
        ids.add(item.id)
    return ids


def _clash(clash: object, request_ids: set[str]) -> tuple[str, str]:
    # Fast path for the common, already-normalised shape: a city week has ~10^6 clashes.
    if type(clash) is tuple and len(clash) == 2:
        first, second = clash
        if type(first) is str and type(second) is str and first < second:  # noqa: SIM102 (hashable first)
            if first in request_ids and second in request_ids:
                return clash
    if isinstance(clash, str | bytes | Mapping) or not isinstance(clash, Iterable):
        raise InstanceError(f"clash {clash!r} must be a list of two request ids")
    names = tuple(clash)
    if len(names) != 2 or not all(isinstance(name, str) for name in names):
        raise InstanceError(f"clash {list(names)!r} must be a list of two request ids")
    first, second = names
    for name in names:
        if name not in request_ids:
            raise InstanceError(f"clash [{first!r}, {second!r}] names unknown request {name!r}")
    if first == second:
        raise InstanceError(f"clash [{first!r}, {second!r}] names the same request twice")
    return (first, second) if first < second else (second, first)


_VOLUNTEER_KEYS = {"id": True, "capacity": True, "panel_wards": False}
_REQUEST_KEYS = {"id": True, "needed": True, "priority": True, "all_or_nothing": False, "ward": False, "urgent": False}
_PAIR_KEYS = {"volunteer": True, "request": True, "load": True, "score": True}
_TOP_KEYS = {"volunteers": True, "requests": True, "pairs": True, "clashes": False, "ring_fenced": False}


def _fields(item: object, keys: Mapping[str, bool], where: str) -> dict[str, Any]:
    """Check an object has every required key and no unknown one (a typo must not pass)."""
    if not isinstance(item, Mapping):
        raise InstanceError(f"{where} must be an object, got {type(item).__name__}")
    for key in item:
        if key not in keys:
            raise InstanceError(f"{where}: unknown key {key!r} (expected {', '.join(keys)})")
    for key, required in keys.items():
        if required and key not in item:
            raise InstanceError(f"{where}: missing key {key!r}")
    return dict(item)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list | tuple):
        raise InstanceError(f"{key!r} must be a list, got {type(value).__name__}")
    return list(value)


def parse_instance(data: object) -> Instance:
    """Build an Instance from the JSON shape documented in docs/matching.md.

    Raises InstanceError with a message naming the offending item: wrong types, missing or
    unknown keys, duplicate ids or pairs, references to unknown ids, out-of-range values,
    more than three decimal places.
    """
    top = _fields(data, _TOP_KEYS, "instance")
    volunteers = []
    for position, item in enumerate(_list(top, "volunteers")):
        fields = _fields(item, _VOLUNTEER_KEYS, f"volunteers[{position}]")
        _check_id(fields["id"], f"volunteers[{position}]:")
        if "panel_wards" in fields and not isinstance(fields["panel_wards"], list | tuple):
            raise InstanceError(f"volunteers[{position}]: panel_wards must be a list of ward ids")
        volunteers.append(Volunteer(**fields))
    requests = []
    for position, item in enumerate(_list(top, "requests")):
        fields = _fields(item, _REQUEST_KEYS, f"requests[{position}]")
        _check_id(fields["id"], f"requests[{position}]:")
        requests.append(Request(**fields))
    pairs = []
    for position, item in enumerate(_list(top, "pairs")):
        fields = _fields(item, _PAIR_KEYS, f"pairs[{position}]")
        _check_id(fields["volunteer"], f"pairs[{position}]: volunteer")
        _check_id(fields["request"], f"pairs[{position}]: request")
        pairs.append(Pair(**fields))
    return Instance(
        tuple(volunteers), tuple(requests), tuple(pairs), tuple(_list(top, "clashes")), _list(top, "ring_fenced")
    )


def _plain(value: Number) -> int | float:
    return float(value) if isinstance(value, Decimal) else value


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The JSON shape of an instance (what `parse_instance` reads), e.g. to save a run. The local-first
    fields (`panel_wards`, `ward`, `urgent`, `ring_fenced`) are written only where they are set."""
    data = {
        "volunteers": [
            {"id": v.id, "capacity": _plain(v.capacity)}
            | ({"panel_wards": sorted(v.panel_wards)} if v.panel_wards else {})
            for v in instance.volunteers
        ],
        "requests": [
            {"id": r.id, "needed": r.needed, "priority": r.priority, "all_or_nothing": r.all_or_nothing}
            | ({"ward": r.ward} if r.ward is not None else {})
            | ({"urgent": True} if r.urgent else {})
            for r in instance.requests
        ],
        "pairs": [
            {"volunteer": p.volunteer, "request": p.request, "load": _plain(p.load), "score": _plain(p.score)}
            for p in instance.pairs
        ],
        "clashes": [list(clash) for clash in instance.clashes],
    }
    if instance.ring_fenced:
        data["ring_fenced"] = sorted(instance.ring_fenced)
    return data
