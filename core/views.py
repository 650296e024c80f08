"""Each role's home page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from core.auth.models import Role, SecurityEvent, User
from core.db import get_session
from core.geography.models import Bcu, Borough, Ward
from core.permissions import EVERY_ROLE, allow, public
from core.seams import seams

bp = Blueprint("home", __name__)


@bp.route("/")
@allow(*EVERY_ROLE)
def index():
    db = get_session()
    context: dict = {}
    if current_user.role is Role.COORDINATOR:
        context["counts"] = dict(db.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
        context["bcus"] = db.execute(
            select(Bcu.name, func.count(func.distinct(Borough.id)), func.count(Ward.id))
            .join(Borough, Borough.bcu_id == Bcu.id)
            .outerjoin(Ward, Ward.borough_id == Borough.id)
            .group_by(Bcu.id, Bcu.name)
            .order_by(Bcu.name)
        ).all()
        context["events"] = db.execute(
            select(SecurityEvent, User.full_name)
            .outerjoin(User, User.id == SecurityEvent.user_id)
            .where(
                SecurityEvent.event.in_(
                    ["sign_in_slowed", "sign_in_ceiling_reached", "access_refused", "sign_in_refused_disabled"]
                )
            )
            .order_by(SecurityEvent.at.desc())
            .limit(10)
        ).all()
    provider = seams().home_pages.get(current_user.role)
    if provider is not None:
        context.update(provider(current_user))
    return render_template(f"home/{current_user.role.value}.html", **context)


@bp.route("/health")
@public
def health():
    """For load balancers: the app is up and can reach its database."""
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")
