"""Plausible demo wards, for when no real ward file has been imported.

The real BCUs and boroughs (the Met's 12 BCUs; the City of London has its own force) are
seeded by migration 0002, with approximate borough centres that demo wards are scattered around.
Real wards come from ``flask geo import-wards FILE.csv``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_STEMS = [
    "St Mary's",
    "Abbey",
    "Castle",
    "Priory",
    "Riverside",
    "Market",
    "Church",
    "Kings",
    "Queens",
    "Northfield",
    "Southfield",
    "Highfield",
    "Oakwood",
    "Elmwood",
    "Ashgrove",
    "Beechwood",
    "Cedars",
    "Clock Tower",
    "Old Town",
    "Mill",
    "Chase",
    "Manor",
    "Grange",
    "Meadows",
    "Brook",
    "Station",
    "Canal",
    "Common",
    "Orchard",
    "Fairfield",
    "Hillside",
    "Lakeside",
    "Springfield",
    "Woodside",
]
_SUFFIXES = ["", " Park", " Green", " Hill", " Vale", " North", " South", " East", " West"]


@dataclass(frozen=True)
class DemoWard:
    code: str
    name: str
    borough: str
    latitude: float
    longitude: float


def demo_wards(boroughs: list[tuple[str, float, float]], per_borough: int = 19, seed: int = 7) -> list[DemoWard]:
    """About 600 plausible wards (32 boroughs × 19), scattered within ~2.5 km of each centre.

    Codes use the E05 9xxxxx range, which no real ward uses, so a later import of real wards
    never collides with demo ones.
    """
    rng = random.Random(seed)
    wards: list[DemoWard] = []
    number = 900000
    for borough, lat, lon in sorted(boroughs):
        names: set[str] = set()
        while len(names) < per_borough:
            names.add(rng.choice(_STEMS) + rng.choice(_SUFFIXES))
        for name in sorted(names):
            number += 1
            wards.append(
                DemoWard(
                    code=f"E05{number}",
                    name=name,
                    borough=borough,
                    latitude=round(lat + rng.uniform(-0.022, 0.022), 5),
                    longitude=round(lon + rng.uniform(-0.035, 0.035), 5),
                )
            )
    return wards
