"""The instance format: what parses, and a clear message naming the item when it does not."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from matching.solver.instance import Instance, InstanceError, Pair, Request, Volunteer, instance_to_dict, parse_instance
from tests.unit.matching import instance_json


def test_parses_the_documented_shape() -> None:
    instance = parse_instance(instance_json())
    assert [v.id for v in instance.volunteers] == ["v1", "v2"]
    assert instance.volunteers[1].capacity_milli == 4500
    assert instance.requests[1] == Request("r2", 2, 1, False)
    assert instance.pairs[0].load_milli == 2500 and instance.pairs[2].score_milli == -250
    assert instance.clashes == (("r1", "r2"),)


def test_optional_keys_default() -> None:
    data = instance_json()
    del data["clashes"]
    instance = parse_instance(data)
    assert instance.clashes == ()
    assert instance.requests[1].all_or_nothing is False


def test_round_trips_through_its_json_shape() -> None:
    instance = parse_instance(instance_json())
    assert parse_instance(instance_to_dict(instance)) == instance


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2000),
        (2.5, 2500),
        (0.1, 100),
        (2.675, 2675),
        (1e3, 1_000_000),
        (Decimal("0.125"), 125),
        (0, 0),
    ],
)
def test_decimals_scale_exactly(value: float, expected: int) -> None:
    assert Volunteer("v", value).capacity_milli == expected


def test_clashes_are_normalised() -> None:
    data = instance_json(clashes=[["r2", "r1"], ["r1", "r2"]])
    assert parse_instance(data).clashes == (("r1", "r2"),)


def _broken(path: tuple[object, ...], value: object) -> dict:
    data = copy.deepcopy(instance_json())
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("volunteers", 0, "capacity"), -1, "volunteer 'v1': capacity must be between 0"),
        (("volunteers", 0, "capacity"), "16", "volunteer 'v1': capacity must be a number"),
        (("volunteers", 0, "capacity"), True, "volunteer 'v1': capacity must be a number"),
        (("volunteers", 0, "capacity"), 1.2345, "volunteer 'v1': capacity has more than 3 decimal places"),
        (("volunteers", 0, "capacity"), float("nan"), "volunteer 'v1': capacity must be a finite number"),
        (("volunteers", 0, "capacity"), 10**7, "volunteer 'v1': capacity must be between 0 and 1000000"),
        (("volunteers", 1, "id"), "v1", "volunteer id 'v1' is used twice"),
        (("volunteers", 1, "id"), 7, "volunteers[1]: id must be a non-empty string"),
        (("volunteers", 1, "id"), "", "volunteers[1]: id must be a non-empty string"),
        (("volunteers", 0, "capcity"), 3, "volunteers[0]: unknown key 'capcity'"),
        (("volunteers", 0, "capacity"), _DELETE, "volunteers[0]: missing key 'capacity'"),
        (("volunteers", 0), "v1", "volunteers[0] must be an object"),
        (("volunteers",), {"id": "v1"}, "'volunteers' must be a list"),
        (("requests", 1, "id"), "r1", "request id 'r1' is used twice"),
        (("requests", 0, "needed"), 0, "request 'r1': needed must be between 1"),
        (("requests", 0, "needed"), 1.5, "request 'r1': needed must be a whole number"),
        (("requests", 0, "priority"), -1, "request 'r1': priority must be between 0"),
        (("requests", 0, "priority"), 2.5, "request 'r1': priority must be a whole number"),
        (("requests", 0, "priority"), "high", "request 'r1': priority must be a whole number"),
        (("requests", 0, "all_or_nothing"), "yes", "request 'r1': all_or_nothing must be true or false"),
        (("pairs", 0, "volunteer"), "v9", "pair ('v9', 'r1'): unknown volunteer 'v9'"),
        (("pairs", 0, "request"), "r9", "pair ('v1', 'r9'): unknown request 'r9'"),
        (("pairs", 1, "volunteer"), "v1", "pair ('v1', 'r1') is listed twice"),
        (("pairs", 0, "load"), -0.5, "pair ('v1', 'r1'): load must be between 0"),
        (("pairs", 0, "score"), 0.0001, "pair ('v1', 'r1'): score has more than 3 decimal places"),
        (("pairs", 0, "score"), None, "pair ('v1', 'r1'): score must be a number"),
        (("pairs", 0, "volunteer"), 3, "pairs[0]: volunteer id must be a non-empty string"),
        (("clashes", 0), ["r1", "r9"], "clash ['r1', 'r9'] names unknown request 'r9'"),
        (("clashes", 0), ["r1", "r1"], "clash ['r1', 'r1'] names the same request twice"),
        (("clashes", 0), ["r1"], "clash ['r1'] must be a list of two request ids"),
        (("clashes", 0), "r1,r2", "must be a list of two request ids"),
        (("extra",), 1, "instance: unknown key 'extra'"),
        (("pairs",), _DELETE, "instance: missing key 'pairs'"),
    ],
)
def test_rejects_with_a_message_naming_the_item(path: tuple[object, ...], value: object, message: str) -> None:
    with pytest.raises(InstanceError) as raised:
        parse_instance(_broken(path, value))
    assert message in raised.value.message
    assert str(raised.value) == raised.value.message


def test_rejects_a_non_object() -> None:
    with pytest.raises(InstanceError, match="instance must be an object"):
        parse_instance([1, 2])


def test_dataclasses_validate_when_built_in_code() -> None:
    """The integrator builds instances from the database directly: the same rules apply."""
    with pytest.raises(InstanceError, match="unknown request 'r2'"):
        Instance((Volunteer("v1", 1),), (Request("r1", 1, 1),), (Pair("v1", "r2", 1, 0),))
    with pytest.raises(InstanceError, match="needed must be between 1"):
        Request("r1", 0, 1)
    with pytest.raises(InstanceError, match="pairs\\[0\\] must be a Pair"):
        Instance((), (), ({"volunteer": "v1"},))  # type: ignore[arg-type]
