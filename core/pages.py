"""The public pages every service owes its users: the privacy notice, the accessibility statement and
how to contact the team. Linked from every page's footer; open to anyone, signed in or not.

The words are in templates/pages/; the names and addresses they give come from the configuration
(``DATA_CONTROLLER``, ``CONTACT_EMAIL``, ``DATA_PROTECTION_OFFICER_EMAIL``, the retention period), so
a force sets them once for its own deployment.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from core.permissions import public

bp = Blueprint("pages", __name__)


@bp.route("/privacy")
@public
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("pages/accessibility.html")


@bp.route("/contact")
@public
def contact():
    return render_template("pages/contact.html")
