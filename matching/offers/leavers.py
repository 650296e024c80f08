"""A volunteer who left of their own accord: every active coordinator is told (``Seams.volunteer_left``).

When a coordinator records a leaver, they know already; when the volunteer leaves from their own account,
the coordinators hear it here, in the leaving's transaction (``matching.notifications.services.record``),
so they can thank them, close what the service does not hold, and see who may need replacing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.timeutil import format_date
from matching.notifications.models import NotificationKind
from matching.notifications.services import record
from volunteers.models import Volunteer


def tell_coordinators(session: Session, volunteer: Volunteer, actor_id: int | None) -> int:
    """Record VOLUNTEER_LEFT for each active coordinator when the volunteer left themselves; returns how many."""
    if actor_id is None or actor_id != volunteer.user_id:
        return 0
    coordinators = list(
        session.scalars(
            select(User).where(User.role == Role.COORDINATOR, User.is_disabled.is_(False)).order_by(User.id)
        )
    )
    name = volunteer.user.full_name
    ward = volunteer.home_ward.label if volunteer.home_ward else "no home ward"
    for coordinator in coordinators:
        record(
            session,
            user=coordinator,
            kind=NotificationKind.VOLUNTEER_LEFT,
            subject=f"Volunteer left: {name}",
            body=(
                f"Dear {coordinator.full_name},\n\n{name} ({ward}) left volunteering from their own account on "
                f"{format_date(volunteer.left_at)}.\n\nTheir future offers and bookings have been withdrawn and the "
                "sergeants told; their clearances have ended as no longer needed. The directory shows their "
                "record until the retention period ends.\n"
            ),
        )
    return len(coordinators)
