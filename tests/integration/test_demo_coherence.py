"""The demo people and requests make sense to someone reading them (issue 19, item 10).

The demo volunteer was a mental-health nurse whose only skill was cyber-crime victim support and whose
preferred task was one a volunteer without a warrant can never be offered; a Friday market was "the
Saturday market"; there was a summer fete in December. These rules run over the whole generated demo.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from sqlalchemy import select

from core.auth.models import User
from core.demo import DEMO_PASSWORD
from core.timeutil import LONDON
from matching.demo import _TEMPLATES, _request
from matching.models import SupportRequest
from vetting.catalogue import TASK_POLICIES_BY_CODE
from volunteers.demo import JOB_SKILLS
from volunteers.models import TaskPreference, Volunteer, VolunteerKind, VolunteerSkill
from volunteers.skills import SkillLevel

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Words that name a time of year, and the months they may appear in.
SEASONAL = {
    "spring": {3, 4, 5},
    "summer": {6, 7, 8},
    "autumn": {9, 10, 11},
    "winter": {12, 1, 2},
    "christmas": {11, 12},
    "easter": {3, 4},
    "halloween": {10},
    "bonfire": {11},
}


def _incoherent_request(item: SupportRequest) -> str | None:
    """What is wrong with a request's words for the day and hour it falls on, if anything."""
    start = item.window_start.astimezone(LONDON)
    text = f"{item.title}. {item.description}"
    for weekday in WEEKDAYS:
        if weekday in text and weekday != WEEKDAYS[start.weekday()]:
            return f"{text!r} names {weekday} but falls on {WEEKDAYS[start.weekday()]}"
    for word, months in SEASONAL.items():
        if re.search(rf"\b{word}\b", text, re.IGNORECASE) and start.month not in months:
            return f"{text!r} is out of season in {start:%B}"
    if re.search(r"\bevening\b", text, re.IGNORECASE) and start.hour < 17:
        return f"{text!r} starts at {start:%H:%M}"
    if re.search(r"\b(assembly|Year \d+)\b", text) and start.weekday() >= 5:
        return f"{text!r} is a school day's work on a {WEEKDAYS[start.weekday()]}"
    return None


def test_every_demo_request_names_its_own_day_season_and_time_of_day():
    """Over a whole year of dates, not only the fortnight the demo happens to be loaded in."""
    rng = random.Random(7)
    first = dt.date(2027, 1, 1)
    problems = []
    for offset in range(0, 366, 2):
        today = first + dt.timedelta(days=offset)
        for code in _TEMPLATES:
            for _ in range(4):
                problem = _incoherent_request(_request(rng, today, 1, 1, code))
                if problem:
                    problems.append(problem)
    assert problems == [], problems[:5]


def test_the_whole_demo_is_coherent(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "120"])
    assert result.exit_code == 0, result.output

    skills: dict[int, dict[str, SkillLevel]] = {}
    for volunteer_id, code, level in db.execute(
        select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code, VolunteerSkill.level)
    ):
        skills.setdefault(volunteer_id, {})[code] = level
    volunteers = {v.id: v for v in db.scalars(select(Volunteer))}
    assert len(volunteers) == 120 + 1  # the scale's, and Hana Whitfield (matching/teams/demo.py)

    for volunteer in volunteers.values():
        assert volunteer.occupation in JOB_SKILLS, volunteer.occupation
        held = skills.get(volunteer.id, {})
        missing = set(JOB_SKILLS[volunteer.occupation]) - set(held)
        assert not missing, f"{volunteer.occupation} #{volunteer.id} lacks {missing}: has {sorted(held)}"

    for volunteer_id, code in db.execute(select(TaskPreference.volunteer_id, TaskPreference.task_type_code)):
        policy = TASK_POLICIES_BY_CODE[code]
        volunteer, held = volunteers[volunteer_id], skills.get(volunteer_id, {})
        assert not policy.warranted_only or volunteer.kind is VolunteerKind.SPECIAL, (volunteer.occupation, code)
        for requirement in policy.required_skills:
            assert any(
                skill in held and held[skill] >= requirement.minimum_level for skill in requirement.alternatives
            ), f"{volunteer.occupation} #{volunteer_id} prefers {code} without {requirement.alternatives}: {held}"

    requests = list(db.scalars(select(SupportRequest)))
    assert requests
    problems = [p for p in map(_incoherent_request, requests) if p]
    assert problems == [], problems[:5]


def test_the_demo_volunteer_is_a_coherent_person_offered_work_their_skills_fit(app, db):
    app.test_cli_runner().invoke(args=["demo", "load", "--scale", "60"])
    client = app.test_client()
    client.sign_in("volunteer@demo.example", DEMO_PASSWORD)
    profile = " ".join(client.get("/profile").soup.select_one("main").get_text(" ").split())
    named = db.scalar(
        select(Volunteer).join(User, User.id == Volunteer.user_id).where(User.email == "volunteer@demo.example")
    )
    assert named.occupation and named.occupation in profile
    held = {s.skill_code for s in db.scalars(select(VolunteerSkill).where(VolunteerSkill.volunteer_id == named.id))}
    assert set(JOB_SKILLS[named.occupation]) <= held and len(held) >= 2
    preferred = set(db.scalars(select(TaskPreference.task_type_code).where(TaskPreference.volunteer_id == named.id)))
    assert preferred, "the demo volunteer says which work they would like"
    for code in preferred:
        assert any(held & set(r.alternatives) for r in TASK_POLICIES_BY_CODE[code].required_skills) or not (
            TASK_POLICIES_BY_CODE[code].required_skills
        )
