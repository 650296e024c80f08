"""Volunteer forms. Shape only: uniqueness, ownership and eligibility are checked in services."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, Length, NumberRange, Optional, Regexp

from core.forms import (
    BaseForm,
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    Required,
    WholeNumberField,
)
from volunteers.models import OccupationCategory, VolunteerKind, WorkAdjustment

_PHONE = Regexp(r"^\+?[0-9 ()-]{7,20}$", message="Enter a telephone number, like 07700 900 982 or 020 7946 0000")

KIND_CHOICES = [
    SelectChoice(VolunteerKind.SPECIAL.value, "Special constable (a warranted, volunteer police officer)"),
    SelectChoice(VolunteerKind.PSV.value, "Police support volunteer (not warranted)"),
]


class RegistrationForm(BaseForm):
    full_name = StringField("Full name", widget=GovTextInput(), validators=[
        Required("Enter your full name"), Length(max=120, message="Full name must be 120 characters or fewer")])
    email = StringField("Email address", widget=GovTextInput(), validators=[
        Required("Enter your email address"),
        Email(message="Enter an email address in the correct format, like name@example.org",
              check_deliverability=False),
        Length(max=254, message="Email address must be 254 characters or fewer")])
    phone = StringField("UK telephone number", widget=GovTextInput(), validators=[
        Required("Enter a telephone number"), _PHONE])
    kind = RadioField("How do you want to volunteer?", widget=GovRadioInput(), choices=KIND_CHOICES,
                      validators=[Required("Choose how you want to volunteer")])
    password = PasswordField(
        "Create a password", widget=GovPasswordInput(),
        description="At least 12 characters. Three unrelated words work well.",
        validators=[Required("Create a password")])
    submit = SubmitField("Apply", widget=GovSubmitInput())


class VersionedForm(BaseForm):
    """Carries the record's version, so a save over someone else's newer change is refused."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class ContactForm(VersionedForm):
    phone = StringField("UK telephone number", widget=GovTextInput(), validators=[
        Required("Enter a telephone number"), _PHONE])
    submit = SubmitField("Save", widget=GovSubmitInput())


class BoroughForm(BaseForm):
    """GET form: which borough's wards to show."""

    class Meta:
        csrf = False

    borough = SelectField("Borough", widget=GovSelect(), coerce=int)
    show = SubmitField("Show wards", widget=GovSubmitInput())


class HomeWardForm(VersionedForm):
    ward = RadioField("Home ward", widget=GovRadioInput(), coerce=int,
                      validators=[Required("Choose your home ward")])
    submit = SubmitField("Save home ward", widget=GovSubmitInput())


class TravelForm(VersionedForm):
    travel_limit_km = WholeNumberField(
        "How far will you travel from your home ward, in kilometres?", widget=GovTextInput(),
        invalid_message="Enter the distance as a whole number of kilometres, like 5",
        description="Straight-line distance. 5 km is about 30 minutes on public transport in inner London.",
        validators=[Required("Enter how far you will travel"),
                    NumberRange(min=0, max=200, message="Enter a distance between 0 and 200 km")])
    weekly_hours_cap = WholeNumberField(
        "Most hours a week you can give", widget=GovTextInput(),
        invalid_message="Enter the hours as a whole number, like 8",
        description="Including travel. We will never offer you more than this in a week.",
        validators=[Required("Enter the most hours a week you can give"),
                    NumberRange(min=1, max=70, message="Enter a number of hours between 1 and 70")])
    submit = SubmitField("Save", widget=GovSubmitInput())


class WorkForm(VersionedForm):
    occupation = StringField("Job title", widget=GovTextInput(), validators=[
        Optional(), Length(max=120, message="Job title must be 120 characters or fewer")])
    employer = StringField("Employer", widget=GovTextInput(), validators=[
        Optional(), Length(max=120, message="Employer must be 120 characters or fewer")])
    occupation_category = RadioField("Does your work fall into any of these?", widget=GovRadioInput(), choices=[
        SelectChoice(OccupationCategory.PRIVATE_SECURITY_CYBER.value, "Private security or cyber-security consultancy"),
        SelectChoice(OccupationCategory.PRIVATE_INVESTIGATION.value, "Private investigation"),
        SelectChoice(OccupationCategory.NHS_AMBULANCE.value, "NHS or ambulance service"),
        SelectChoice(OccupationCategory.OTHER.value, "None of these"),
    ], validators=[Required("Choose whether your work falls into any of these")])
    adjustment = RadioField("Can you do street duty?", widget=GovRadioInput(), choices=[
        SelectChoice(WorkAdjustment.NONE.value, "Yes"),
        SelectChoice(WorkAdjustment.DESK_ONLY.value, "No, desk-based work only"),
        SelectChoice(WorkAdjustment.REMOTE_ONLY.value, "No, remote work only"),
    ], validators=[Required("Choose whether you can do street duty")])
    military_reservist = RadioField("Are you a military reservist?", widget=GovRadioInput(), choices=[
        SelectChoice("yes", "Yes"), SelectChoice("no", "No")], validators=[Required("Choose yes or no")])
    submit = SubmitField("Save", widget=GovSubmitInput())


class PreferencesForm(VersionedForm):
    task_types = SelectMultipleField("Which kinds of task would you like to be offered?",
                                     widget=GovCheckboxesInput(), description="Select all that apply.")
    submit = SubmitField("Save", widget=GovSubmitInput())
