import pytest

from core.config import DEV_SECRET_KEY, ConfigError, load_config

STRONG = "s" * 40


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"ENV_NAME": "production", "AUDIT_HMAC_KEY": STRONG})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET_KEY, "AUDIT_HMAC_KEY": STRONG})


def test_production_takes_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("AUDIT_HMAC_KEY", STRONG)
    monkeypatch.setenv("MAIL_SENDER", "Met volunteering <volunteering@met.police.example>")
    settings = load_config({"ENV_NAME": "production"})
    assert settings["SECRET_KEY"] == STRONG
    assert settings["DEBUG"] is False and settings["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_the_development_mail_sender(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("AUDIT_HMAC_KEY", STRONG)
    monkeypatch.delenv("MAIL_SENDER", raising=False)
    with pytest.raises(ConfigError, match="MAIL_SENDER"):
        load_config({"ENV_NAME": "production"})
    with pytest.raises(ConfigError, match="MAIL_SENDER"):
        load_config({"ENV_NAME": "production", "MAIL_SENDER": "SNT <no-reply@localhost>"})


def test_the_service_name_and_sender_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("MAIL_SENDER", raising=False)
    monkeypatch.setenv("SERVICE_NAME", "Met volunteer matching")
    settings = load_config({"ENV_NAME": "development"})
    # The development sender is named after the service and plainly not a real address.
    assert settings["SERVICE_NAME"] == "Met volunteer matching"
    assert settings["MAIL_SENDER"] == "Met volunteer matching <no-reply@sng.invalid>"
    monkeypatch.setenv("MAIL_SENDER", "Volunteering <volunteering@met.police.example>")
    assert load_config({"ENV_NAME": "development"})["MAIL_SENDER"] == "Volunteering <volunteering@met.police.example>"


def test_development_allows_the_marked_default(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = load_config({"ENV_NAME": "development"})
    assert settings["SECRET_KEY"] == DEV_SECRET_KEY and settings["SESSION_COOKIE_SECURE"] is False


def test_database_url_selects_postgresql_with_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/sng")
    assert load_config({"ENV_NAME": "testing"})["DATABASE_URL"] == "postgresql+psycopg://u:p@db.internal:5432/sng"
    monkeypatch.delenv("DATABASE_URL")
    assert load_config({"ENV_NAME": "testing"})["DATABASE_URL"].endswith("instance/app.sqlite3")


def test_unknown_environment_is_an_error():
    with pytest.raises(ConfigError, match="FLASK_ENV"):
        load_config({"ENV_NAME": "staging"})
