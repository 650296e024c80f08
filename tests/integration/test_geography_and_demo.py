"""Ward import from CSV (CLI), and the demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from core.auth.models import Role, User
from core.demo import DEMO_PASSWORD
from core.geography.models import Ward

GOOD = """ward code,ward name,borough name,latitude,longitude
E05013580,Belsize,Camden,51.5481,-0.1712
E05013581,Bloomsbury,camden,51.5203,-0.1262
E05013700,Angel,Islington,51.5322,-0.1058
"""


def test_import_wards_from_csv(app, db, tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text(GOOD)
    result = app.test_cli_runner().invoke(args=["geo", "import-wards", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated" in result.output
    belsize = db.scalars(select(Ward).where(Ward.code == "E05013580")).one()
    assert belsize.borough.name == "Camden" and belsize.borough.bcu.name == "Central North"
    # Importing again updates rather than duplicates.
    again = app.test_cli_runner().invoke(args=["geo", "import-wards", str(path)])
    assert "0 new, 3 updated" in again.output


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(app, db, tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text(GOOD + "X123,Nowhere,Atlantis,north,-0.1\nE05013580,Belsize again,Camden,51.5,-0.1\n")
    result = app.test_cli_runner().invoke(args=["geo", "import-wards", str(path)])
    assert result.exit_code != 0
    assert "Line 5: ward code 'X123' is not a 9-character ONS code" in result.output
    assert "borough 'Atlantis' is not a Met borough" in result.output
    assert "latitude must be a number" in result.output
    assert "Line 6: ward code E05013580 appears more than once" in result.output
    assert "Nothing imported" in result.output
    assert db.scalar(select(func.count(Ward.id))) == 0


def test_missing_columns_are_reported(app, tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text("code,name\nE05013580,Belsize\n")
    result = app.test_cli_runner().invoke(args=["geo", "import-wards", str(path)])
    assert result.exit_code != 0 and "missing the column(s): ward code, ward name" in result.output


def test_demo_load_is_deterministic_realistic_and_only_into_an_empty_database(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--scale", "200"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(func.count(Ward.id))) == 32 * 19
    counts = dict(db.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    # The scale's volunteers and the one the ward-team demo adds (cleared only with a supervising officer).
    assert counts[Role.VOLUNTEER] == 200 + 1 and counts[Role.VETTING_OFFICER] == 2 and counts[Role.COORDINATOR] == 1
    assert counts[Role.SERGEANT] == 13
    sergeants = db.scalars(select(User).where(User.role == Role.SERGEANT)).all()
    assert all(2 <= len(s.wards) <= 4 and len({w.borough_id for w in s.wards}) == 1 for s in sergeants)
    assert "already has accounts" in runner.invoke(args=["demo", "load", "--if-empty"]).output
    assert runner.invoke(args=["demo", "load"]).exit_code != 0


def test_each_demo_sign_in_lands_on_its_role_home_page(app, db):
    app.test_cli_runner().invoke(args=["demo", "load", "--scale", "20"])
    headings = {
        "coordinator@demo.example": "Coordinator overview",
        "vetting.officer@demo.example": "Vetting",
        "vetting.officer2@demo.example": "Vetting",
        "sergeant@demo.example": "Your wards",
        "volunteer@demo.example": "Your volunteering",
    }
    for email, heading in headings.items():
        client = app.test_client()
        client.sign_in(email, DEMO_PASSWORD)
        home = client.get("/")
        assert home.soup.select_one("h1").get_text(strip=True) == heading
    coordinator = app.test_client()
    coordinator.sign_in("coordinator@demo.example", DEMO_PASSWORD)
    page = coordinator.get("/")
    assert "Central North" in page.soup.select_one(".govuk-table").get_text()


def test_demo_is_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "never loaded into a production" in result.output
