"""Partner forms. Shape only: which organisations and skills exist, and uniqueness, are the services' to check."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from core.forms import (
    BaseForm,
    ChoiceCheckboxesField,
    ChoiceRadioField,
    ChoiceSelectField,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    Required,
    strip_nul,
)
from volunteers.partners.models import (
    PARTNER_DESCRIPTION_MAX,
    PARTNER_KIND_LABELS,
    PARTNER_NAME_MAX,
    REASON_MAX,
    PartnerRelation,
)


class PartnerForm(BaseForm):
    name = StringField(
        "Name of the organisation",
        widget=GovTextInput(),
        validators=[
            Required("Enter the organisation's name"),
            Length(max=PARTNER_NAME_MAX, message=f"Name must be {PARTNER_NAME_MAX} characters or fewer"),
        ],
    )
    kind = ChoiceRadioField(
        "What kind of organisation is it?",
        widget=GovRadioInput(),
        choices=[SelectChoice(kind.value, label) for kind, label in PARTNER_KIND_LABELS.items()],
        validators=[Required("Choose what kind of organisation it is")],
        invalid_message="Choose what kind of organisation it is from the list",
    )
    description = TextAreaField(
        "Description (optional)",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="What the organisation does with the force, for the volunteers who choose it.",
        validators=[
            Length(
                max=PARTNER_DESCRIPTION_MAX,
                message=f"Description must be {PARTNER_DESCRIPTION_MAX} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Save organisation", widget=GovSubmitInput())


class ReviewerPartnerForm(BaseForm):
    partner = ChoiceSelectField(
        "Partner organisation",
        widget=GovSelect(),
        validators=[Required("Choose the organisation this reviewer vouches for")],
        invalid_message="Choose a partner organisation from the list",
    )
    submit = SubmitField("Save organisation", widget=GovSubmitInput())


class NamePartnerForm(BaseForm):
    partner = ChoiceSelectField(
        "Organisation",
        widget=GovSelect(),
        validators=[Required("Choose the organisation")],
        invalid_message="Choose an organisation from the list",
    )
    relation = ChoiceRadioField(
        "How are you connected to it?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(PartnerRelation.WORKS_FOR.value, "I work for it"),
            SelectChoice(PartnerRelation.WORKS_WITH.value, "I work, volunteer or study with it"),
        ],
        validators=[Required("Choose how you are connected to the organisation")],
        invalid_message="Choose how you are connected to the organisation from the list",
    )
    skills = ChoiceCheckboxesField(
        "Skills it can vouch for (optional)",
        widget=GovCheckboxesInput(),
        coerce=int,
        description="Its contact will be asked to confirm each skill you tick. "
        "A skill it vouches for counts as checked.",
        invalid_message="Choose skills from your profile",
    )
    submit = SubmitField("Add organisation", widget=GovSubmitInput())


class ClaimsForm(BaseForm):
    skills = ChoiceCheckboxesField(
        "Skills it can vouch for",
        widget=GovCheckboxesInput(),
        coerce=int,
        invalid_message="Choose skills from your profile",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class DeclineForm(BaseForm):
    reason = TextAreaField(
        "Why can you not vouch for this skill?",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="The force's coordinators will see this. For example: 'Not known to us in this role'.",
        validators=[
            Required("Enter why you cannot vouch for this skill"),
            Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Decline", widget=GovSubmitInput())
