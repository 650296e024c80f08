"""What a volunteer is told about a deployment, on the offer's page and in its emails alike: when to be there
and whom to call. Plain words from the request; no query of its own.

The matcher books a volunteer from the start of the request's window for the task's length (``deployment_end``),
and checks they are free for exactly that: so the offer says that time, not the whole window.
"""

from __future__ import annotations

import datetime as dt

from matching.models import SupportRequest, clock_text, duration_text, format_window


def slot_text(request: SupportRequest, starts_at: dt.datetime | None = None) -> str:
    """'Tuesday 14 July 2026, 3pm to 4pm': the time the volunteer is (or would be) booked for."""
    start = starts_at or request.window_start
    return format_window(start, start + dt.timedelta(minutes=request.duration_minutes))


def arrival_text(request: SupportRequest, starts_at: dt.datetime | None = None) -> str:
    """'Be there by 3pm: the task takes about 1 hour.' (remote work: 'Start at 3pm: …')."""
    start = clock_text(starts_at or request.window_start)
    when = f"Start at {start}" if request.remote else f"Be there by {start}"
    return f"{when}: the task takes about {duration_text(request.duration_minutes)}."


def contact_text(request: SupportRequest) -> str:
    """'Sergeant Tom Okafor, tom@met.example, 020 7946 0000': who raised the request and how to reach them."""
    sergeant = request.created_by
    parts = [sergeant.full_name, sergeant.email]
    if request.contact_phone:
        parts.append(request.contact_phone)
    return ", ".join(parts)
