"""Sergeants' support requests: raising (task type first), the form's checks, ownership, edit, cancel, list."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.auth.models import Role, SecurityEvent, User
from core.db import utcnow
from core.geography.models import Borough, Ward
from core.timeutil import london_to_utc, london_today
from matching.models import Priority, RequestStatus, SupportRequest
from matching.requests import services
from matching.requests.forms import OVERNIGHT_REFUSED
from tests.helpers import date_fields, error_messages, make_request, make_user, make_volunteer, make_wards
from volunteers.models import ConflictCategory, ConflictDeclaration

CYBER = "/requests/new/cyber_victim_visit"


def _sergeant(client, db, wards: list[Ward]) -> User:
    sergeant = make_user(db, Role.SERGEANT, wards=wards)
    client.sign_in(sergeant.email)
    return sergeant


def _soon() -> dt.date:
    return london_today() + dt.timedelta(days=10)


def _valid(ward: Ward, day: dt.date | None = None, **overrides) -> dict:
    data = {
        "title": "Advice visit after a phone scam",
        "description": "Explain what happened and how to stay safe online.",
        "ward": str(ward.id),
        **date_fields("date", day or _soon()),
        "start_time": "14:00",
        "end_time": "16:00",
        "duration": "60",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
        "organisation": "",
    }
    data.update(overrides)
    return data


def _last_sunday_of_march(year: int) -> dt.date:
    day = dt.date(year, 3, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


# ---- Step 1: the task type; step 2 pre-filled from its policy ----------------------------------


def test_task_type_comes_first_and_sets_the_defaults(client, db):
    _sergeant(client, db, make_wards(db, count=1))
    missing = client.submit("/requests/new", {})
    assert error_messages(missing.soup) == {"task_type": "Choose what kind of task it is"}
    assert missing.soup.select_one(".govuk-error-summary a")["href"] == "#task_type"
    bogus = client.submit("/requests/new", {"task_type": "tea_making"})
    assert error_messages(bogus.soup) == {"task_type": "Choose a kind of task from the list"}
    chosen = client.submit("/requests/new", {"task_type": "mental_health_escort"})
    assert chosen.status_code == 302 and chosen.location.endswith("/requests/new/mental_health_escort")

    escort = client.get("/requests/new/mental_health_escort").soup
    assert escort.select_one("#people_needed")["value"] == "2"
    assert escort.select_one("input[name=all_or_nothing][checked]")["value"] == "yes"
    assert escort.select_one("input[name=priority][checked]")["value"] == "routine"
    # Policy says warranted only: stated, not asked. No remote question for a visit.
    assert escort.select_one("input[name=warranted_only]") is None
    assert "Only warranted special constables can do a mental-health escort" in escort.get_text()
    assert escort.select_one("input[name=remote]") is None
    # One ward: already chosen.
    assert len(escort.select("input[name=ward][checked]")) == 1
    # No one has served the ward yet: no preferred-volunteer question.
    assert escort.select_one("select[name=preferred_volunteer]") is None

    event = client.get("/requests/new/public_event_support").soup
    assert event.select_one("#people_needed")["value"] == "4"
    assert event.select_one("input[name=all_or_nothing][checked]")["value"] == "no"
    triage = client.get("/requests/new/digital_evidence_triage").soup
    assert [i["value"] for i in triage.select("input[name=remote]")] == ["no", "yes"]
    assert client.get("/requests/new/tea_making").status_code == 404
    # "Change" goes back to step 1 with the choice kept.
    back = client.get("/requests/new?task_type=mental_health_escort").soup
    assert back.select_one("input[name=task_type][checked]")["value"] == "mental_health_escort"


def test_a_sergeant_without_wards_cannot_raise_a_request(client, db):
    _sergeant(client, db, [])
    page = client.get(CYBER)
    assert "You have no wards yet" in page.soup.get_text() and page.soup.select_one("main form[method=post]") is None
    assert "You have no wards yet" in client.get("/requests").soup.get_text()


# ---- Raising a request --------------------------------------------------------------------------


def test_a_request_for_2pm_in_july_is_stored_as_1pm_utc_and_shown_as_2pm(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    july = dt.date(london_today().year + 1, 7, 14)
    response = client.submit(
        CYBER,
        _valid(
            wards[1],
            july,
            start_time="2pm",
            end_time="16:30",
            duration="90",
            extra_skills=["safeguarding"],
            languages=["lang_pl", "bsl"],
            organisation="  Riverside   Dental Practice ",
            priority="priority",
        ),
    )
    assert response.status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert response.location.endswith(f"/requests/{item.id}")
    assert item.window_start == dt.datetime(july.year, 7, 14, 13, 0, tzinfo=dt.UTC)
    assert item.window_end == dt.datetime(july.year, 7, 14, 15, 30, tzinfo=dt.UTC)
    assert (item.ward_id, item.remote, item.status, item.priority) == (
        wards[1].id,
        False,
        RequestStatus.OPEN,
        Priority.PRIORITY,
    )
    assert (item.duration_minutes, item.people_needed, item.all_or_nothing, item.warranted_only) == (
        90,
        1,
        False,
        False,
    )
    assert item.skill_codes == ["bsl", "lang_pl", "safeguarding"]
    assert item.organisation == "Riverside Dental Practice" and item.created_by_id == sergeant.id
    event = db.scalars(select(SecurityEvent).where(SecurityEvent.event == "support_request_created")).one()
    assert event.user_id == sergeant.id and "phone scam" not in event.detail and str(item.id) in event.detail

    page = client.get(f"/requests/{item.id}")
    text = " ".join(page.soup.get_text().split())
    assert f"14 July {july.year}, 2pm to 4:30pm" in text
    assert "Request raised: Advice visit after a phone scam." in text
    assert "British Sign Language, Polish, Safeguarding" in text
    assert page.soup.select_one("h1").get_text(strip=True) == "Advice visit after a phone scam"


def test_the_sergeant_sees_how_many_volunteers_an_organisation_conflict_leaves_out(client, db):
    wards = make_wards(db, count=1)
    sergeant = _sergeant(client, db, wards)
    for name in ("riverside dental practice", "Riverside Dental Practice "):
        db.add(
            ConflictDeclaration(volunteer_id=make_volunteer(db).id, category=ConflictCategory.CLIENT, organisation=name)
        )
    db.commit()
    item = make_request(
        db,
        wards[0],
        utcnow() + dt.timedelta(days=3),
        created_by_id=sergeant.id,
        organisation="Riverside Dental Practice",
    )
    text = " ".join(client.get(f"/requests/{item.id}").soup.get_text().split())
    assert "2 volunteers have declared a conflict of interest with it and will not be offered this request" in text


def test_every_missing_answer_is_reported_by_its_field_and_in_the_summary(client, db):
    _sergeant(client, db, make_wards(db))
    response = client.submit(CYBER, {})
    assert error_messages(response.soup) == {
        "title": "Enter a title",
        "description": "Enter a short description",
        "ward": "Choose the ward",
        "date-day": "Enter the date",
        "start_time": "Enter the time the window starts",
        "end_time": "Enter the time the window ends",
        "duration": "Choose how long the task will take",
        "people_needed": "Enter how many volunteers you need",
        "all_or_nothing": "Choose whether the task can go ahead with fewer volunteers",
        "warranted_only": "Choose whether it needs a special constable",
        "priority": "Choose the priority",
    }
    links = [a["href"] for a in response.soup.select(".govuk-error-summary a")]
    assert links == [
        "#title",
        "#description",
        "#ward",
        "#date-day",
        "#start_time",
        "#end_time",
        "#duration",
        "#people_needed",
        "#all_or_nothing",
        "#warranted_only",
        "#priority",
    ]
    assert response.soup.select_one("title").get_text().startswith("Error: Raise a support request")
    assert db.scalar(select(func.count(SupportRequest.id))) == 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"date": ["14", "", "2027"]}, {"date-day": "The date must include a month"}),
        ({"date": ["", "", "2027"]}, {"date-day": "The date must include a day and month"}),
        ({"date": ["31", "2", "2027"]}, {"date-day": "The date must be a real date"}),
        ({"date": ["x", "y", "z"]}, {"date-day": "The date must be a real date"}),
        (
            {"date": ["31", "12", "9999"], "end_time": "midnight"},
            {"date-day": "The date must be within a year from today"},
        ),
        ({"start_time": "teatime"}, {"start_time": "Enter the start time as a time of day, like 9:30am or 14:00"}),
        ({"end_time": "25:00"}, {"end_time": "Enter the end time as a time of day, like 9:30am or 14:00"}),
        ({"start_time": "24:00"}, {"start_time": "Enter a start time before midnight, like 23:30"}),
        ({"start_time": "16:00", "end_time": "2pm"}, {"end_time": OVERNIGHT_REFUSED}),
        ({"start_time": "14:00", "end_time": "14:00"}, {"end_time": OVERNIGHT_REFUSED}),
        (
            {"duration": "180"},
            {
                "duration": "The task (3 hours) must fit inside the window (2 hours): make the window "
                "longer or the task shorter"
            },
        ),
        ({"duration": "17"}, {"duration": "Choose how long the task will take from the list"}),
        ({"duration": "abc"}, {"duration": "Choose how long the task will take from the list"}),
        ({"people_needed": "0"}, {"people_needed": "Enter a number of volunteers between 1 and 10"}),
        ({"people_needed": "11"}, {"people_needed": "Enter a number of volunteers between 1 and 10"}),
        ({"people_needed": "99999999999999999999"}, {"people_needed": "Enter a number of volunteers between 1 and 10"}),
        ({"people_needed": "two"}, {"people_needed": "Enter the number of volunteers as a whole number, like 2"}),
        ({"extra_skills": ["safeguarding", "juggling"]}, {"extra_skills": "Choose skills from the list"}),
        ({"languages": ["lang_xx"]}, {"languages": "Choose languages from the list"}),
        ({"priority": "whenever"}, {"priority": "Choose routine, priority or urgent"}),
        ({"title": "x" * 121}, {"title": "Title must be 120 characters or fewer"}),
        ({"description": "x" * 1001}, {"description": "Description must be 1,000 characters or fewer"}),
        ({"organisation": "x" * 161}, {"organisation": "Organisation must be 160 characters or fewer"}),
        ({"title": "\x00"}, {"title": "Enter a title"}),
    ],
)
def test_bad_answers_are_reported_by_their_field(client, db, overrides, expected):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    response = client.submit(CYBER, _valid(wards[0], **overrides))
    assert response.status_code == 200
    assert error_messages(response.soup) == expected
    summary = [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]
    assert summary == list(expected.values())
    assert db.scalar(select(func.count(SupportRequest.id))) == 0


def test_nothing_typed_is_lost_when_the_form_is_shown_again(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    soup = client.submit(
        CYBER,
        _valid(
            wards[1],
            title="Scam advice",
            start_time="9:30am",
            end_time="9am",
            extra_skills=["osint"],
            languages=["lang_so"],
            organisation="Corner Shop",
            people_needed="3",
            date=["14", "", "2030"],
        ),
    ).soup
    assert set(error_messages(soup)) == {"date-day"}  # the times wait until the date can be read
    assert soup.select_one("#title")["value"] == "Scam advice"
    assert soup.select_one("#description").get_text() == "Explain what happened and how to stay safe online."
    assert soup.select_one("input[name=ward][checked]")["value"] == str(wards[1].id)
    assert [i.get("value", "") for i in soup.select("input[name=date]")] == ["14", "", "2030"]
    assert soup.select_one("#start_time")["value"] == "9:30am" and soup.select_one("#end_time")["value"] == "9am"
    assert soup.select_one("#duration option[selected]")["value"] == "60"
    assert soup.select_one("#people_needed")["value"] == "3"
    assert [i["value"] for i in soup.select("input[name=extra_skills][checked]")] == ["osint"]
    assert [i["value"] for i in soup.select("input[name=languages][checked]")] == ["lang_so"]
    assert soup.select_one("#organisation")["value"] == "Corner Shop"


def test_a_date_in_the_past_or_a_window_already_over_is_refused(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    yesterday = client.submit(CYBER, _valid(wards[0], london_today() - dt.timedelta(days=1)))
    assert error_messages(yesterday.soup) == {"date-day": "The date must be today or in the future"}
    earlier_today = client.submit(
        CYBER, _valid(wards[0], london_today(), start_time="00:00", end_time="00:15", duration="15")
    )
    if london_to_utc(london_today(), dt.time(0, 15)) <= utcnow():  # always, bar the first quarter hour of the day
        assert error_messages(earlier_today.soup) == {
            "end_time": "The end time has already passed: enter a later time or another date"
        }


def test_a_time_the_clocks_skip_is_an_error_by_its_field(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    spring = _last_sunday_of_march(london_today().year + 1)
    response = client.submit(CYBER, _valid(wards[0], spring, start_time="01:30", end_time="04:00"))
    assert error_messages(response.soup) == {
        "start_time": f"01:30 on {spring.day} March {spring.year} does not exist in London: the clocks go forward "
        "an hour"
    }
    gap_end = client.submit(CYBER, _valid(wards[0], spring, start_time="00:00", end_time="1:15am", duration="30"))
    assert "does not exist in London" in error_messages(gap_end.soup)["end_time"]
    # Across the gap the window is an hour shorter than the clock faces suggest.
    across = client.submit(CYBER, _valid(wards[0], spring, start_time="00:30", end_time="03:00", duration="150"))
    assert error_messages(across.soup) == {
        "duration": "The task (2 hours 30 minutes) must fit inside the window "
        "(1 hour 30 minutes): make the window longer or the task "
        "shorter"
    }


def test_the_2026_spring_forward_gap_from_the_brief(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    response = client.submit(
        CYBER, _valid(wards[0], dt.date(2026, 3, 29), start_time="01:30", end_time="03:00", duration="30")
    )
    assert error_messages(response.soup)["start_time"] == (
        "01:30 on 29 March 2026 does not exist in London: the clocks go forward an hour"
    )


def test_only_the_sergeants_own_wards(client, db):
    mine = make_wards(db)
    theirs = make_wards(db, "Hackney", count=1)
    _sergeant(client, db, mine)
    page = client.get(CYBER).soup
    assert {i["value"] for i in page.select("input[name=ward]")} == {str(w.id) for w in mine}
    response = client.submit(CYBER, _valid(theirs[0]))
    assert error_messages(response.soup) == {"ward": "Choose one of your wards"}
    assert error_messages(client.submit(CYBER, {**_valid(mine[0]), "ward": "abc"}).soup) == {
        "ward": "Choose one of your wards"
    }


def test_remote_only_where_the_task_type_allows_it(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    refused = client.submit(CYBER, _valid(wards[0], remote="yes"))
    assert error_messages(refused.soup) == {"remote": "Cyber-crime victim visit cannot be done remotely. Choose No"}
    triage = "/requests/new/digital_evidence_triage"
    unanswered = client.submit(triage, _valid(wards[0]))
    assert error_messages(unanswered.soup) == {"remote": "Choose whether the volunteer can do it remotely"}
    assert client.submit(triage, _valid(wards[0], remote="yes")).status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.remote and item.ward_id == wards[0].id  # a remote request still belongs to a ward
    assert "The volunteer can work remotely" in client.get(f"/requests/{item.id}").soup.get_text()


def test_policy_defaults_and_what_the_sergeant_may_change(client, db):
    wards = make_wards(db)
    _sergeant(client, db, wards)
    escort = "/requests/new/mental_health_escort"
    # The policy's warranted-only rule cannot be switched off by the form.
    assert (
        client.submit(
            escort, _valid(wards[0], people_needed="2", all_or_nothing="yes", warranted_only="no")
        ).status_code
        == 302
    )
    # The staffing is the sergeant's choice: one escort with an officer alongside is allowed.
    assert client.submit(escort, _valid(wards[0], people_needed="1", all_or_nothing="no")).status_code == 302
    first, second = db.scalars(select(SupportRequest).order_by(SupportRequest.id)).all()
    assert (first.people_needed, first.all_or_nothing, first.warranted_only) == (2, True, True)
    assert (second.people_needed, second.all_or_nothing, second.warranted_only) == (1, False, True)


def test_a_preferred_volunteer_must_be_one_who_served_the_ward(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    stranger = make_volunteer(db)
    response = client.submit(CYBER, _valid(wards[0], preferred_volunteer=str(stranger.id)))
    assert error_messages(response.soup) == {"preferred_volunteer": "Choose a volunteer from the list"}
    details = services.RequestDetails(
        ward_id=wards[0].id,
        remote=False,
        title="Visit",
        description="Advice.",
        window_start=utcnow() + dt.timedelta(days=1),
        window_end=utcnow() + dt.timedelta(days=1, hours=2),
        duration_minutes=60,
        people_needed=1,
        all_or_nothing=False,
        priority=Priority.ROUTINE,
        preferred_volunteer_id=stranger.id,
    )
    with pytest.raises(services.RequestError) as refused:
        services.create_request(db, sergeant, "cyber_victim_visit", details, utcnow())
    assert refused.value.field == "preferred_volunteer"
    assert services.previous_volunteers(db, [wards[0].id]) == []


# ---- Whose requests -----------------------------------------------------------------------------


def test_another_sergeants_request_is_not_found(app, db):
    ward_a, ward_b = make_wards(db)
    a = make_user(db, Role.SERGEANT, wards=[ward_a])
    item = make_request(db, ward_a, utcnow() + dt.timedelta(days=2), created_by_id=a.id, title="Ward A visit")
    client = app.test_client()
    b = make_user(db, Role.SERGEANT, wards=[ward_b])
    client.sign_in(b.email)
    token = client.csrf_token("/requests/new")
    assert client.get(f"/requests/{item.id}").status_code == 404
    assert client.get(f"/requests/{item.id}/edit").status_code == 404
    assert client.get(f"/requests/{item.id}/cancel").status_code == 404
    assert (
        client.post(f"/requests/{item.id}/cancel", data={"csrf_token": token, "reason": "Mine now"}).status_code == 404
    )
    assert client.post(f"/requests/{item.id}/edit", data={"csrf_token": token, **_valid(ward_b)}).status_code == 404
    assert "Ward A visit" not in client.get("/requests").soup.get_text()
    assert client.get(f"/requests?ward={ward_a.id}").soup.select_one("#ward-error") is not None
    assert client.get("/requests/99999999999999999999").status_code == 404
    db.expire_all()
    assert db.get(SupportRequest, item.id).status is RequestStatus.OPEN

    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    page = coordinator.get(f"/requests/{item.id}")
    assert page.status_code == 200 and "Change the request" not in page.soup.get_text()
    assert "Ward A visit" in coordinator.get("/requests").soup.get_text()
    assert coordinator.get(f"/requests/{item.id}/edit").status_code == 403


# ---- Edit and cancel ----------------------------------------------------------------------------


def test_edit_shows_the_saved_request_in_london_time_and_saves_changes(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    july = dt.date(london_today().year + 1, 7, 14)
    item = make_request(
        db, wards[0], london_to_utc(july, dt.time(14, 0)), created_by_id=sergeant.id, organisation="Corner Shop"
    )
    soup = client.get(f"/requests/{item.id}/edit").soup
    assert soup.select_one("#start_time")["value"] == "14:00" and soup.select_one("#end_time")["value"] == "16:00"
    assert [i["value"] for i in soup.select("input[name=date]")] == ["14", "07", str(july.year)]
    assert soup.select_one("#version")["value"] == "1"
    form = _valid(wards[1], july, title="A longer visit", end_time="midnight", duration="120", version="1")
    response = client.submit(f"/requests/{item.id}/edit", form)
    assert response.status_code == 302
    db.expire_all()
    saved = db.get(SupportRequest, item.id)
    assert (saved.title, saved.ward_id, saved.version) == ("A longer visit", wards[1].id, 2)
    assert saved.window_end == london_to_utc(july + dt.timedelta(days=1), dt.time(0, 0))
    assert "2pm to midnight" in " ".join(client.get(f"/requests/{item.id}").soup.get_text().split())
    assert db.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.event == "support_request_edited")) == 1


def test_a_stale_edit_is_refused_and_nothing_typed_is_lost(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    item = make_request(db, wards[0], utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id, title="Original")
    item.title = "Changed by a colleague"
    db.commit()  # version 2 now
    stale = client.submit(f"/requests/{item.id}/edit", _valid(wards[0], title="My change", version="1"))
    assert stale.status_code == 200
    text = " ".join(stale.soup.get_text().split())
    assert "This request was changed by someone else while you were editing it" in text
    assert stale.soup.select_one("title").get_text().startswith("Error: Change the request")
    assert stale.soup.select_one("#title")["value"] == "My change"
    assert "Changed by a colleague" in text  # what is saved now
    assert stale.soup.select_one("#version")["value"] == "2"
    db.expire_all()
    assert db.get(SupportRequest, item.id).title == "Changed by a colleague"
    again = client.submit(f"/requests/{item.id}/edit", _valid(wards[0], title="My change", version="2"))
    assert again.status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).title == "My change"


def test_edit_checks_the_form_like_raising_does(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    item = make_request(db, wards[0], utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id)
    response = client.submit(f"/requests/{item.id}/edit", _valid(wards[0], people_needed="12", version="1"))
    assert error_messages(response.soup) == {"people_needed": "Enter a number of volunteers between 1 and 10"}


def test_cancel_needs_a_reason_and_a_cancelled_request_cannot_change(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    item = make_request(
        db, wards[0], utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id, title="Fete stewarding"
    )
    no_reason = client.submit(f"/requests/{item.id}/cancel", {"reason": "  "})
    assert error_messages(no_reason.soup) == {"reason": "Enter why you are cancelling the request"}
    too_long = client.submit(f"/requests/{item.id}/cancel", {"reason": "x" * 301})
    assert error_messages(too_long.soup) == {"reason": "The reason must be 300 characters or fewer"}
    done = client.submit(f"/requests/{item.id}/cancel", {"reason": "The fete was called off"})
    assert done.status_code == 302
    db.expire_all()
    cancelled = db.get(SupportRequest, item.id)
    assert cancelled.status is RequestStatus.CANCELLED and cancelled.cancel_reason == "The fete was called off"
    assert cancelled.cancelled_at is not None
    page = client.get(f"/requests/{item.id}")
    assert "The fete was called off" in page.soup.get_text() and "Change the request" not in page.soup.get_text()

    edit = client.get(f"/requests/{item.id}/edit")
    assert edit.status_code == 302 and edit.location.endswith(f"/requests/{item.id}")
    assert (
        "This request has been cancelled, so it can no longer be changed." in client.get(edit.location).soup.get_text()
    )
    token = client.csrf_token("/requests")
    posted = client.post(f"/requests/{item.id}/edit", data={"csrf_token": token, **_valid(wards[0], version="2")})
    assert posted.status_code == 302
    assert client.post(f"/requests/{item.id}/cancel", data={"csrf_token": token, "reason": "Again"}).status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).title == "Fete stewarding"
    with pytest.raises(services.RequestError):
        services.cancel_request(db, sergeant, item.id, "Again", utcnow())
    # Still listed, and found by its status.
    listed = client.get("/requests?status=cancelled").soup.select("tbody tr")
    assert len(listed) == 1 and "Cancelled" in listed[0].get_text()


# ---- The list -----------------------------------------------------------------------------------


def test_the_list_filters_and_pages_newest_window_first(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    base = london_to_utc(london_today() + dt.timedelta(days=1), dt.time(9, 0))
    for day in range(30):
        make_request(
            db,
            wards[day % 2],
            base + dt.timedelta(days=day),
            created_by_id=sergeant.id,
            title=f"Visit {day:02d}",
            task_type_code="youth_schools_liaison" if day % 3 == 0 else "cyber_victim_visit",
        )
    first = client.get("/requests")
    titles = [a.get_text() for a in first.soup.select("tbody a")]
    assert titles[:3] == ["Visit 29", "Visit 28", "Visit 27"] and len(titles) == 25
    assert "30 requests, latest first" in first.soup.select_one("caption").get_text()
    second = client.get("/requests?page=2")
    assert [a.get_text() for a in second.soup.select("tbody a")] == [f"Visit {d:02d}" for d in range(4, -1, -1)]
    assert client.get("/requests?page=abc").status_code == 200

    in_ward = client.get(f"/requests?ward={wards[1].id}&task_type=youth_schools_liaison")
    assert [a.get_text() for a in in_ward.soup.select("tbody a")] == [
        "Visit 27",
        "Visit 21",
        "Visit 15",
        "Visit 09",
        "Visit 03",
    ]
    day_3 = london_today() + dt.timedelta(days=4)
    day_5 = london_today() + dt.timedelta(days=6)
    dated = client.get(
        "/requests",
        query_string={
            "date_from": [day_3.day, day_3.month, day_3.year],
            "date_to": [day_5.day, day_5.month, day_5.year],
        },
    )
    assert [a.get_text() for a in dated.soup.select("tbody a")] == ["Visit 05", "Visit 04", "Visit 03"]
    # Filters travel with the pages.
    filtered = client.get("/requests", query_string={"status": "open"})
    assert filtered.soup.select_one("caption").get_text().startswith("30 requests matching the filters")
    next_link = filtered.soup.select_one(".govuk-pagination__next a")["href"]
    assert "status=open" in next_link and "page=2" in next_link


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "lost"}, "status", "Choose a status from the list"),
        ({"task_type": "x"}, "task_type", "Choose a task type from the list"),
        ({"ward": "99999999999999999999"}, "ward", "Choose one of your wards"),
        ({"date_from": ["1", "", "2026"]}, "date_from-day", "The 'from' date must include a month"),
        (
            {"date_from": ["1", "2", "2027"], "date_to": ["1", "1", "2027"]},
            "date_to-day",
            "The 'to' date must be the same as or after the 'from' date",
        ),
        ({"date_to": ["31", "12", "9999"]}, "date_to-day", "The 'to' date must be between 2000 and 2100"),
        ({"date_from": ["1", "1", "1066"]}, "date_from-day", "The 'from' date must be between 2000 and 2100"),
    ],
)
def test_a_bad_filter_is_reported_and_left_out(client, db, query, field, message):
    wards = make_wards(db, count=1)
    sergeant = _sergeant(client, db, wards)
    make_request(db, wards[0], utcnow() + dt.timedelta(days=2), created_by_id=sergeant.id)
    page = client.get("/requests", query_string=query)
    assert page.status_code == 200 and error_messages(page.soup) == {field: message}
    assert len(page.soup.select("tbody a")) == 1


def test_coordinators_filter_every_ward_by_bcu_and_borough(app, db):
    camden, hackney = make_wards(db, count=1), make_wards(db, "Hackney", count=1)
    sergeant = make_user(db, Role.SERGEANT, wards=camden + hackney)
    make_request(db, camden[0], utcnow() + dt.timedelta(days=2), created_by_id=sergeant.id, title="Camden visit")
    make_request(db, hackney[0], utcnow() + dt.timedelta(days=3), created_by_id=sergeant.id, title="Hackney visit")
    client = app.test_client()
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    everything = client.get("/requests").soup
    assert [a.get_text() for a in everything.select("tbody a")] == ["Hackney visit", "Camden visit"]
    assert everything.select_one("a[href='/requests/new']") is None
    borough = client.get(f"/requests?borough={camden[0].borough_id}").soup
    assert [a.get_text() for a in borough.select("tbody a")] == ["Camden visit"]
    bcu_id = db.get(Borough, hackney[0].borough_id).bcu_id
    assert [a.get_text() for a in client.get(f"/requests?bcu={bcu_id}").soup.select("tbody a")] == ["Hackney visit"]


def test_the_sergeants_home_page_lists_their_open_requests(client, db):
    wards = make_wards(db)
    sergeant = _sergeant(client, db, wards)
    make_request(db, wards[0], utcnow() + dt.timedelta(days=3), created_by_id=sergeant.id, title="Coming up")
    make_request(
        db,
        wards[0],
        utcnow() + dt.timedelta(days=1),
        created_by_id=sergeant.id,
        title="Cancelled one",
        status=RequestStatus.CANCELLED,
        cancelled_at=utcnow(),
        cancel_reason="No longer needed",
    )
    make_request(db, wards[1], utcnow() - dt.timedelta(days=3), created_by_id=sergeant.id, title="Already over")
    home = client.get("/")
    assert home.soup.select_one("h1").get_text(strip=True) == "Your wards"
    assert [a.get_text() for a in home.soup.select("table a")] == ["Coming up"]
    nav = [a.get_text(strip=True) for a in home.soup.select(".govuk-service-navigation a")]
    assert nav[:2] == ["Home", "Requests"]


def test_the_demo_gives_each_sergeant_requests_over_the_next_two_weeks(app, db):
    assert app.test_cli_runner().invoke(args=["demo", "load", "--scale", "20"]).exit_code == 0
    today = london_today()
    for sergeant in db.scalars(select(User).where(User.role == Role.SERGEANT)):
        ward_ids = {w.id for w in sergeant.wards}
        mine = db.scalars(select(SupportRequest).where(SupportRequest.created_by_id == sergeant.id)).all()
        # The demo's few deployments already past (matching/deployments/demo.py) are not part of the fortnight.
        past = [item for item in mine if item.window_start.date() < today]
        assert all(item.status in (RequestStatus.FILLED, RequestStatus.COMPLETED) for item in past)
        mine = [item for item in mine if item not in past]
        assert 3 <= len(mine) <= 8
        for item in mine:
            # The demo then matches the fortnight and answers most offers, so some are matched or filled.
            assert item.ward_id in ward_ids and item.status is not RequestStatus.CANCELLED
            assert today < item.window_start.date() <= today + dt.timedelta(days=15)
            assert item.duration_minutes <= (item.window_end - item.window_start).total_seconds() / 60
