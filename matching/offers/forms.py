"""The volunteer's answer to an offer."""

from __future__ import annotations

from core.forms import BaseForm


class AnswerForm(BaseForm):
    """Accept or decline an offer: just the CSRF token (the button says which)."""
