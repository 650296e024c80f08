"""Issue #19, the sergeant's and the offer's defects a first-time user tripped over (items 9, 11-16).

Dates are relative to today, so these keep working as the calendar moves.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_to_utc, london_today, to_london
from matching.models import MatchRun, Offer, OfferStatus, RequestStatus, SupportRequest
from matching.requests import services
from tests.helpers import (
    date_fields,
    error_messages,
    make_kings_cross_and_belsize,
    make_offer,
    make_request,
    make_user,
    make_volunteer,
    make_wards,
)
from tests.integration.conftest import body
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import AvailabilitySlot, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

DAY = london_today() + dt.timedelta(days=3)
CYBER = "/requests/new/cyber_victim_visit"


def _subject(envelope) -> str:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)["Subject"]


def _text(soup) -> str:
    return " ".join(soup.get_text().split())


def _ready(db, ward, name: str, start_minute: int = 8 * 60, end_minute: int = 20 * 60):
    """An active PSV cleared for cyber-crime victim visits, living in ``ward``, free every day in the slot."""
    volunteer = make_volunteer(db, home_ward_id=ward.id, full_name=name, status=VolunteerStatus.ACTIVE)
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=dt.date(2024, 1, 1),
            expires_on=DAY + dt.timedelta(days=400),
        )
    )
    db.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=d, start_minute=start_minute, end_minute=end_minute)
        for d in range(7)
    )
    db.commit()
    return volunteer


def _form(item: SupportRequest, **overrides) -> dict:
    """The edit form's answers for ``item`` as saved, with ``overrides``."""
    start, end = to_london(item.window_start), to_london(item.window_end)
    data = {
        "title": item.title,
        "description": item.description,
        "ward": str(item.ward_id),
        **date_fields("date", start.date()),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
        "duration": str(item.duration_minutes),
        "people_needed": str(item.people_needed),
        "all_or_nothing": "yes" if item.all_or_nothing else "no",
        "priority": item.priority.value,
        "warranted_only": "yes" if item.warranted_only else "no",
        "organisation": item.organisation or "",
        "contact_phone": item.contact_phone or "",
        "audience": item.audience.value,
        "version": str(item.version),
    }
    data.update(overrides)
    return data


# ---- 11. The home page's status tags ------------------------------------------------------------


def test_the_home_page_says_each_requests_status_in_its_tag(client, db):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    client.sign_in(sergeant.email)
    soon = utcnow() + dt.timedelta(days=2)
    for n, status in enumerate(
        (RequestStatus.OPEN, RequestStatus.MATCHED, RequestStatus.PART_FILLED, RequestStatus.FILLED)
    ):
        make_request(db, ward, soon + dt.timedelta(hours=n), created_by_id=sergeant.id, title=f"R{n}", status=status)
    rows = client.get("/").soup.select("table")[1].select("tbody tr")
    tags = [row.select_one(".govuk-tag").get_text(strip=True) for row in rows]
    assert tags == ["Open", "Matched", "Part filled", "Filled"]


# ---- 16. The cancellation's reason reaches the volunteer ---------------------------------------


def test_the_cancellation_reason_reaches_the_booked_volunteer_by_email_and_on_the_offer(app, client, db, smtp):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, utcnow() + dt.timedelta(days=2), created_by_id=sergeant.id, title="Scam visit")
    volunteer = make_volunteer(db, full_name="Alice Adeyemi")
    offer = make_offer(db, volunteer, item, OfferStatus.ACCEPTED)
    client.sign_in(sergeant.email)
    cancel = client.get(f"/requests/{item.id}/cancel").soup
    assert "The volunteers offered or booked will read this reason" in _text(cancel)
    assert client.submit(f"/requests/{item.id}/cancel", {"reason": "The victim has moved away"}).status_code == 302

    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == [volunteer.user.email]
    assert "Why: The victim has moved away" in " ".join(body(envelope).split())

    reader = app.test_client()
    reader.sign_in(volunteer.user.email)
    page = _text(reader.get(f"/offers/{offer.id}").soup)
    assert "The team cancelled this request: The victim has moved away" in page


# ---- 9. When to arrive, and whom to contact ----------------------------------------------------


def test_an_offer_says_when_to_arrive_and_how_to_reach_the_team(app, client, db, smtp):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward], full_name="Sergeant Tom Okafor")
    client.sign_in(sergeant.email)
    response = client.submit(
        CYBER,
        {
            "title": "Advice visit after a phone scam",
            "description": "Explain what happened.",
            "ward": str(ward.id),
            **date_fields("date", DAY),
            "start_time": "3pm",
            "end_time": "6pm",
            "duration": "60",
            "people_needed": "1",
            "all_or_nothing": "no",
            "priority": "routine",
            "warranted_only": "no",
            "contact_phone": "020 7946 0000",
        },
    )
    assert response.status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.contact_phone == "020 7946 0000"
    assert "020 7946 0000" in _text(client.get(f"/requests/{item.id}").soup)
    volunteer = make_volunteer(db, full_name="Alice Adeyemi")
    offer = make_offer(db, volunteer, item)

    reader = app.test_client()
    reader.sign_in(volunteer.user.email)
    page = _text(reader.get(f"/offers/{offer.id}").soup)
    assert "3pm to 4pm" in page and "Be there by 3pm: the task takes about 1 hour" in page
    assert f"Sergeant Tom Okafor, {sergeant.email}, 020 7946 0000" in page

    from matching.offers.emails import send_offer_emails

    sent = []
    send_offer_emails(db, [offer.id], lambda to, subject, text: sent.append(text), "http://sng.test")
    (text,) = sent
    flat = " ".join(text.split())
    assert "Be there by 3pm" in flat and "3pm to 4pm" in flat
    assert f"Sergeant Tom Okafor, {sergeant.email}, 020 7946 0000" in flat


def test_the_contact_phone_is_checked_and_remembered_for_the_next_request(client, db):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    client.sign_in(sergeant.email)
    base = {
        "title": "Visit",
        "description": "Advice.",
        "ward": str(ward.id),
        **date_fields("date", DAY),
        "start_time": "10:00",
        "end_time": "12:00",
        "duration": "60",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
    }
    for bad in ("call me", "1" * 10_000, "+33 1 23 45 67 89"):
        refused = client.submit(CYBER, {**base, "contact_phone": bad})
        assert set(error_messages(refused.soup)) == {"contact_phone"}
    assert db.scalar(select(func.count(SupportRequest.id))) == 0
    assert client.submit(CYBER, {**base, "contact_phone": "07700 900982"}).status_code == 302
    assert client.get(CYBER).soup.select_one("#contact_phone")["value"] == "07700 900982"


# ---- 13. A window across midnight --------------------------------------------------------------


def test_a_window_across_midnight_ends_the_next_day(client, db):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    client.sign_in(sergeant.email)
    escort = "/requests/new/mental_health_escort"
    form = client.get(escort).soup
    assert "the next day" in form.select_one("#end_time-hint").get_text()
    answers = {
        "title": "Escort to a place of safety",
        "description": "Night escort.",
        "ward": str(ward.id),
        **date_fields("date", DAY),
        "start_time": "22:00",
        "end_time": "02:00",
        "duration": "180",
        "people_needed": "2",
        "all_or_nothing": "yes",
        "priority": "urgent",
    }
    assert client.submit(escort, answers).status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.window_start == london_to_utc(DAY, dt.time(22, 0))
    assert item.window_end == london_to_utc(DAY + dt.timedelta(days=1), dt.time(2, 0))
    page = _text(client.get(f"/requests/{item.id}").soup)
    assert f"{DAY:%A} {DAY.day} {DAY:%B %Y}, 10pm to 2am the next day" in page
    # The edit form shows the same times and saves them again unchanged.
    edit = client.get(f"/requests/{item.id}/edit").soup
    assert (edit.select_one("#start_time")["value"], edit.select_one("#end_time")["value"]) == ("22:00", "02:00")
    assert client.submit(f"/requests/{item.id}/edit", _form(item)).status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).window_end == london_to_utc(DAY + dt.timedelta(days=1), dt.time(2, 0))


@pytest.mark.parametrize(("start", "end"), [("16:00", "2pm"), ("14:00", "14:00"), ("20:00", "8:30am")])
def test_a_window_over_midnight_longer_than_12_hours_is_refused(client, db, start, end):
    ward = make_wards(db, count=1)[0]
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    response = client.submit(
        CYBER,
        {
            "title": "Visit",
            "description": "Advice.",
            "ward": str(ward.id),
            **date_fields("date", DAY),
            "start_time": start,
            "end_time": end,
            "duration": "60",
            "people_needed": "1",
            "all_or_nothing": "no",
            "priority": "routine",
            "warranted_only": "no",
        },
    )
    assert error_messages(response.soup) == {
        "end_time": "The end time must be after the start time. A window can run past midnight into the next "
        "day for up to 12 hours, like 10pm to 2am"
    }


def test_an_overnight_window_into_the_spring_gap_is_an_error_by_the_end_time(client, db):
    ward = make_wards(db, count=1)[0]
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    year = london_today().year + 1
    sunday = dt.date(year, 3, 31) - dt.timedelta(days=(dt.date(year, 3, 31).weekday() + 1) % 7)
    response = client.submit(
        CYBER,
        {
            "title": "Visit",
            "description": "Advice.",
            "ward": str(ward.id),
            **date_fields("date", sunday - dt.timedelta(days=1)),
            "start_time": "23:00",
            "end_time": "01:30",
            "duration": "60",
            "people_needed": "1",
            "all_or_nothing": "no",
            "priority": "routine",
            "warranted_only": "no",
        },
    )
    assert error_messages(response.soup) == {
        "end_time": f"01:30 on {sunday.day} March {year} does not exist in London: the clocks go forward an hour"
    }


def test_an_overnight_request_is_matched_to_a_volunteer_free_across_midnight(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    night = make_volunteer(db, home_ward_id=kx.id, full_name="Night Owl", status=VolunteerStatus.ACTIVE)
    _ready(db, kx, "Day Person")  # 8am to 8pm only
    db.add(VolunteerSkill(volunteer_id=night.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=night.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=dt.date(2024, 1, 1),
            expires_on=DAY + dt.timedelta(days=400),
        )
    )
    # Evenings to midnight and the small hours, every day: together they cover 10pm to 1am.
    for d in range(7):
        db.add(AvailabilitySlot(volunteer_id=night.id, weekday=d, start_minute=20 * 60, end_minute=24 * 60))
        db.add(AvailabilitySlot(volunteer_id=night.id, weekday=d, start_minute=0, end_minute=3 * 60))
    db.commit()
    start = london_to_utc(DAY, dt.time(22, 0))
    item = make_request(
        db,
        kx,
        start,
        created_by_id=sergeant.id,
        window_end=london_to_utc(DAY + dt.timedelta(days=1), dt.time(2, 0)),
        duration_minutes=180,
    )
    client = app.test_client()
    client.sign_in(sergeant.email)
    client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item.id}")})
    (offer,) = db.scalars(select(Offer).where(Offer.request_id == item.id)).all()
    assert offer.volunteer_id == night.id
    assert offer.ends_at == london_to_utc(DAY + dt.timedelta(days=1), dt.time(1, 0))


# ---- 14. Pre-filled from the task type; the preferred volunteer --------------------------------


def test_the_window_and_length_are_prefilled_from_the_task_type(client, db):
    ward = make_wards(db, count=1)[0]
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    escort = client.get("/requests/new/mental_health_escort").soup
    assert escort.select_one("#duration option[selected]")["value"] == "180"
    assert escort.select_one("#start_time")["value"] and escort.select_one("#end_time")["value"]
    visit = client.get(CYBER).soup
    assert visit.select_one("#duration option[selected]")["value"] == "60"
    assert (visit.select_one("#start_time")["value"], visit.select_one("#end_time")["value"]) == ("10:00", "16:00")
    # The date is the sergeant's to choose: never guessed.
    assert [i.get("value", "") for i in visit.select("input[name=date]")] == ["", "", ""]
    # A pre-filled answer the sergeant cleared is reported, not filled in behind their back.
    assert "start_time" in error_messages(client.submit(CYBER, {"start_time": ""}).soup)


def test_the_preferred_volunteer_question_appears_once_the_ward_has_worked_with_someone(client, db):
    ward, other = make_wards(db)
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    client.sign_in(sergeant.email)
    assert client.get(CYBER).soup.select_one("select[name=preferred_volunteer]") is None
    booked = make_volunteer(db, full_name="Alice Adeyemi")
    elsewhere = make_volunteer(db, full_name="Bogdan Nowak")
    make_offer(db, booked, make_request(db, ward, utcnow() + dt.timedelta(days=4)), OfferStatus.ACCEPTED)
    make_offer(db, elsewhere, make_request(db, other, utcnow() + dt.timedelta(days=4)), OfferStatus.ACCEPTED)
    page = client.get(CYBER).soup
    options = [o.get_text(strip=True) for o in page.select("select[name=preferred_volunteer] option")]
    assert options == ["No preference", "Alice Adeyemi"]
    assert services.previous_volunteers(db, [ward.id]) == [booked]


# ---- 12. The funnel after a change --------------------------------------------------------------


def _match(client, item) -> None:
    client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item.id}")})


def test_after_a_change_the_request_is_matched_again_and_the_funnel_is_new(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    _ready(db, kx, "Alice Adeyemi")  # free 8am to 8pm
    item = make_request(db, kx, london_to_utc(DAY, dt.time(3, 0)), created_by_id=sergeant.id)
    client = app.test_client()
    client.sign_in(sergeant.email)
    _match(client, item)
    assert "0 free 3am to 4am" in _text(client.get(f"/requests/{item.id}").soup)

    db.expire_all()
    saved = client.submit(
        f"/requests/{item.id}/edit", _form(db.get(SupportRequest, item.id), start_time="14:00", end_time="16:00")
    )
    assert saved.status_code == 302
    page = _text(client.get(saved.location).soup)
    assert "free 3am to 4am" not in page
    assert "Alice Adeyemi Waiting for an answer" in page
    assert "matched again with the new details" in page
    assert db.scalar(select(func.count(MatchRun.id))) == 2


def test_figures_from_before_a_change_say_so(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    item = make_request(db, kx, london_to_utc(DAY, dt.time(3, 0)), created_by_id=sergeant.id)
    client = app.test_client()
    client.sign_in(sergeant.email)
    _match(client, item)
    db.expire_all()
    item = db.get(SupportRequest, item.id)
    item.matching_changed_at = utcnow() + dt.timedelta(seconds=1)  # as if changed and not matched since
    db.commit()
    page = _text(client.get(f"/requests/{item.id}").soup)
    assert "These figures are from before the request was changed" in page


# ---- 15. Changing a matched request ------------------------------------------------------------


def test_a_matched_request_keeps_its_volunteers_through_a_small_change(app, db, smtp):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, london_to_utc(DAY, dt.time(10, 0)), created_by_id=sergeant.id, title="Scam visit")
    offer = make_offer(db, make_volunteer(db, full_name="Alice Adeyemi"), item, OfferStatus.ACCEPTED)
    client = app.test_client()
    client.sign_in(sergeant.email)
    assert "Change the request" in _text(client.get(f"/requests/{item.id}").soup)
    edit = client.get(f"/requests/{item.id}/edit")
    assert edit.status_code == 200
    assert (
        "Changing only the title, description, priority, preferred volunteer or contact number keeps their places"
        in _text(edit.soup)
    )
    db.expire_all()
    changed = client.submit(
        f"/requests/{item.id}/edit",
        _form(db.get(SupportRequest, item.id), description="Bring leaflets in Polish.", contact_phone="020 7946 0001"),
    )
    assert changed.status_code == 302, (error_messages(changed.soup), _text(changed.soup)[:1500])
    db.expire_all()
    saved = db.get(SupportRequest, item.id)
    assert saved.description == "Bring leaflets in Polish." and saved.status is RequestStatus.FILLED
    assert db.get(Offer, offer.id).status is OfferStatus.ACCEPTED
    assert smtp.messages == [] and db.scalar(select(func.count(MatchRun.id))) == 0
    # The booked volunteer reads the new description on their offer.
    reader = app.test_client()
    reader.sign_in(offer.volunteer.user.email)
    assert "Bring leaflets in Polish." in _text(reader.get(f"/offers/{offer.id}").soup)


def test_a_bigger_change_says_what_happens_to_the_offers_first_and_then_does_it(app, db, smtp):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    alice = _ready(db, kx, "Alice Adeyemi")
    item = make_request(db, kx, london_to_utc(DAY, dt.time(10, 0)), created_by_id=sergeant.id, people_needed=2)
    accepted = make_offer(db, alice, item, OfferStatus.ACCEPTED)
    waiting = make_offer(db, make_volunteer(db, full_name="Bogdan Nowak"), item)
    client = app.test_client()
    client.sign_in(sergeant.email)
    db.expire_all()
    answers = _form(db.get(SupportRequest, item.id), start_time="15:00", end_time="17:00")

    first = client.submit(f"/requests/{item.id}/edit", answers)
    assert first.status_code == 200
    warning = _text(first.soup.select_one(".govuk-warning-text"))
    assert (
        "1 volunteer has accepted and 1 is waiting to answer: they will be told, and their offers withdrawn. "
        "The request will then be matched again with the new details." in warning
    )
    assert first.soup.select_one("#start_time")["value"] == "15:00"  # nothing typed is lost
    assert first.soup.select_one("button[name=confirm][value=withdraw]") is not None
    db.expire_all()
    assert db.get(SupportRequest, item.id).window_start == london_to_utc(DAY, dt.time(10, 0))
    assert db.get(Offer, accepted.id).status is OfferStatus.ACCEPTED and smtp.messages == []

    done = client.submit(f"/requests/{item.id}/edit", {**answers, "confirm": "withdraw"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).window_start == london_to_utc(DAY, dt.time(15, 0))
    assert {db.get(Offer, accepted.id).status, db.get(Offer, waiting.id).status} == {OfferStatus.CANCELLED}
    told = {e.rcpt_tos[0]: " ".join(body(e).split()) for e in smtp.messages if "changed" in _subject(e)}
    assert set(told) == {alice.user.email, waiting.volunteer.user.email}
    assert "3pm" in told[alice.user.email] and "withdrawn" in told[alice.user.email]
    # Matched again at once: Alice is free at the new time, so she is offered it afresh.
    again = db.scalars(select(Offer).where(Offer.request_id == item.id, Offer.status == OfferStatus.OFFERED)).all()
    assert [o.volunteer_id for o in again] == [alice.id]
    assert again[0].starts_at == london_to_utc(DAY, dt.time(15, 0))
    page = client.get(done.location).soup
    assert "Withdrawn: request changed" in _text(page)
    reader = app.test_client()
    reader.sign_in(waiting.volunteer.user.email)
    assert "The team changed this request" in _text(reader.get(f"/offers/{waiting.id}").soup)


def test_the_service_never_withdraws_offers_unasked(db):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, utcnow() + dt.timedelta(days=3), created_by_id=sergeant.id)
    make_offer(db, make_volunteer(db), item, OfferStatus.ACCEPTED)
    details = services.RequestDetails(
        ward_id=ward.id,
        remote=False,
        title=item.title,
        description=item.description,
        window_start=item.window_start + dt.timedelta(hours=1),
        window_end=item.window_end + dt.timedelta(hours=1),
        duration_minutes=item.duration_minutes,
        people_needed=1,
        all_or_nothing=False,
        priority=item.priority,
    )
    with pytest.raises(services.OffersWouldBeWithdrawn) as refused:
        services.update_request(db, sergeant, item.id, details, item.version, utcnow())
    assert re.search(r"1 volunteer has accepted", refused.value.message)
    db.expire_all()
    assert db.get(SupportRequest, item.id).status is RequestStatus.FILLED
