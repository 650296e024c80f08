"""The coordinator's account administration."""

from __future__ import annotations

from sqlalchemy import select

from core.auth.models import Role, User
from core.geography.models import Borough, Ward
from tests.helpers import error_messages, make_user


def _coordinator(client, db):
    client.sign_in(make_user(db, Role.COORDINATOR).email)


def test_create_staff_account_with_bad_and_missing_input(client, db):
    _coordinator(client, db)
    existing = make_user(db, Role.VETTING_OFFICER)
    empty = client.submit("/accounts/new", {})
    assert error_messages(empty.soup) == {
        "full_name": "Enter the person's full name",
        "email": "Enter an email address",
        "role": "Choose a role",
    }
    # Nobody sets another person's password: the form has no box for one (see test_credentials.py).
    assert empty.soup.select_one("input[type=password]") is None
    bad = client.submit("/accounts/new", {"full_name": "Jo Bloggs", "email": "not-an-email", "role": "volunteer"})
    messages = error_messages(bad.soup)
    assert messages["email"].startswith("Enter an email address in the correct format")
    assert messages["role"] == "Not a valid choice."
    # The form keeps what was typed.
    assert bad.soup.select_one("#full_name")["value"] == "Jo Bloggs"
    taken = client.submit(
        "/accounts/new", {"full_name": "Jo Bloggs", "email": existing.email.upper(), "role": "coordinator"}
    )
    assert error_messages(taken.soup) == {"email": "An account with this email address already exists"}


def test_create_a_sergeant_then_link_wards_in_a_borough(client, db):
    camden = db.scalars(select(Borough).where(Borough.name == "Camden")).one()
    islington = db.scalars(select(Borough).where(Borough.name == "Islington")).one()
    wards = [
        Ward(code=f"E0501358{i}", name=f"Ward {i}", borough_id=camden.id, latitude=51.5, longitude=-0.1)
        for i in range(3)
    ] + [Ward(code="E05013700", name="Angel", borough_id=islington.id, latitude=51.5, longitude=-0.1)]
    db.add_all(wards)
    db.commit()
    _coordinator(client, db)
    created = client.submit(
        "/accounts/new",
        {"full_name": "Sam Sergeant", "email": "sam@test.example", "role": "sergeant"},
    )
    sergeant = db.scalars(select(User).where(User.email == "sam@test.example")).one()
    assert created.location == f"/accounts/{sergeant.id}/wards"
    page = client.get(f"/accounts/{sergeant.id}/wards?borough={camden.id}")
    assert [i["value"] for i in page.soup.select("input[name=wards]")] == [str(w.id) for w in wards[:3]]
    client.submit(f"/accounts/{sergeant.id}/wards?borough={camden.id}", {"wards": [wards[0].id, wards[2].id]})
    client.submit(f"/accounts/{sergeant.id}/wards?borough={islington.id}", {"wards": [wards[3].id]})
    db.expire_all()
    assert sorted(w.name for w in db.get(User, sergeant.id).wards) == ["Angel", "Ward 0", "Ward 2"]
    # A ward from another borough cannot be smuggled in.
    smuggled = client.submit(f"/accounts/{sergeant.id}/wards?borough={islington.id}", {"wards": [wards[1].id]})
    assert list(error_messages(smuggled.soup).values()) == [f"'{wards[1].id}' is not a valid choice for this field."]
    db.expire_all()
    assert "Ward 1" not in [w.name for w in db.get(User, sergeant.id).wards]


def test_wards_page_for_a_non_sergeant_is_not_found(client, db):
    _coordinator(client, db)
    volunteer = make_user(db)
    assert client.get(f"/accounts/{volunteer.id}/wards").status_code == 404


def test_accounts_list_filters_and_paginates(client, db):
    _coordinator(client, db)
    for _ in range(55):
        make_user(db, Role.VOLUNTEER)
    first = client.get("/accounts?role=volunteer")
    assert len(first.soup.select("tbody tr")) == 50
    assert "55 accounts" in first.soup.select_one("caption").get_text()
    second = client.get("/accounts?role=volunteer&page=2")
    assert len(second.soup.select("tbody tr")) == 5
    assert client.get("/accounts?role=volunteer&page=zzz").status_code == 200
    assert client.get("/accounts?page=999").status_code == 200


def test_a_coordinator_cannot_disable_themself(client, db):
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    response = client.submit(f"/accounts/{coordinator.id}/disable", {}, token_from="/accounts")
    assert response.status_code == 302
    db.expire_all()
    assert not db.get(User, coordinator.id).is_disabled
    assert client.submit("/accounts/999999/disable", {}, token_from="/accounts").status_code == 302
