"""The one exception a service raises when it refuses what a person entered. Pure: no Flask, no ORM.

Each feature names its own subclass (``RequestError``, ``DecisionError`` …) so a caller catches
only the refusals of the use case it called; views show any of them with ``core.forms.show_error``.
"""

from __future__ import annotations


class FieldError(Exception):
    """A refusal a person can act on: ``message`` is for them; ``field`` names the form field it is
    about, or is None when it concerns the whole form (the view then shows it as a flash message).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
