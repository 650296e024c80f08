"""Offset pagination for list pages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @classmethod
    def of(cls, session: Session, query: Select, count_query: Select, raw_page: str | None, per_page: int = 50) -> Page:
        """Fetch one page; a missing, malformed or out-of-range page number shows the nearest page."""
        total = session.scalar(count_query) or 0
        try:
            number = int(raw_page or 1)
        except ValueError:
            number = 1
        number = min(max(number, 1), max(1, math.ceil(total / per_page)))
        items = list(session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
        return cls(items=items, number=number, per_page=per_page, total=total)
