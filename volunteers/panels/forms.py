"""The panels' and groups' forms: shape only (the views set the choices; the services check the rest)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from core.forms import (
    BaseForm,
    ChoiceRadioField,
    FilterSelectField,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
    Required,
)
from volunteers.panels.models import GROUP_DESCRIPTION_MAX, GROUP_NAME_MAX, SPECIALIST_KIND_LABELS
from volunteers.panels.services import SEARCH_MAX
from volunteers.skills import SKILLS

SKILL_CHOICES = [SelectChoice(s.code, s.name) for s in sorted(SKILLS, key=lambda s: s.name)]


class CandidateSearchForm(BaseForm):
    """GET: find volunteers to invite, by name or skill."""

    class Meta:
        csrf = False

    q = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=SEARCH_MAX, message=f"Enter {SEARCH_MAX} characters or fewer")],
    )
    skill = FilterSelectField("Skill", "Any skill", "Choose a skill from the list", SKILL_CHOICES)


class ActionForm(BaseForm):
    """A button that changes something: only the CSRF token (and the id the route carries)."""


class InviteForm(BaseForm):
    volunteer_id = HiddenField()


class RingFenceForm(BaseForm):
    ring_fenced = ChoiceRadioField(
        "Ring-fence this ward?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("yes", "Yes: its panel leaves the ward only for urgent requests"),
            SelectChoice("no", "No: local first, as every ward"),
        ],
        invalid_message="Choose yes or no",
        validators=[Required("Choose whether to ring-fence this ward")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class AskForm(BaseForm):
    """The volunteer asks to join a ward's panel. The view sets the ward choices (one borough's wards)."""

    ward = ChoiceRadioField(
        "Which ward's panel?",
        widget=GovRadioInput(),
        invalid_message="Choose one of the wards listed",
        validators=[Required("Choose the ward whose panel you would like to join")],
    )
    submit = SubmitField("Ask to join", widget=GovSubmitInput())


class BoroughForm(BaseForm):
    """GET: the borough whose wards the ask form lists."""

    class Meta:
        csrf = False

    borough = FilterSelectField("Borough", "Choose a borough", "Choose a borough from the list")


class GroupForm(BaseForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="For example, 'London cyber volunteers'.",
        validators=[
            Required("Enter the group's name"),
            Length(max=GROUP_NAME_MAX, message=f"The name must be {GROUP_NAME_MAX} characters or fewer"),
        ],
    )
    kind = ChoiceRadioField(
        "Field",
        widget=GovRadioInput(),
        choices=[SelectChoice(kind.value, label) for kind, label in SPECIALIST_KIND_LABELS.items()],
        invalid_message="Choose the group's field from the list",
        validators=[Required("Choose the group's field")],
    )
    description = TextAreaField(
        "What the group does (optional)",
        widget=GovCharacterCount(),
        description="Volunteers read this before they ask to join.",
        validators=[
            Optional(),
            Length(
                max=GROUP_DESCRIPTION_MAX,
                message=f"The description must be {GROUP_DESCRIPTION_MAX} characters or fewer",
            ),
        ],
    )
    lead_email = StringField(
        "Lead's email address (optional)",
        widget=GovTextInput(),
        description="The email address of the volunteer's account. The lead answers asks to join and can vouch "
        "for members' skills in the group's field.",
        validators=[Optional(), Length(max=254, message="Enter 254 characters or fewer")],
    )
    submit = SubmitField("Save group", widget=GovSubmitInput())
