"""Configuration, read from the environment.

FLASK_ENV selects the profile: ``development`` (make run), ``testing`` (the test suite) or
``production`` — the default, so a server started without it is never accidentally lax.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Clearly marked development default. ProductionConfig refuses to start with it.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
DEV_AUDIT_KEY = "dev-only-insecure-audit-key-do-not-use-in-production"  # noqa: S105
# The development sender: ".invalid" is a domain that can never exist (RFC 2606), so a reply to a test email
# goes nowhere, and nobody mistakes it for a real address. ProductionConfig refuses to start with it.
DEV_MAIL_DOMAIN = "sng.invalid"
DEFAULT_SERVICE_NAME = "SNT volunteer matching"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete for the selected environment."""


def _default_sqlite_url() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'app.sqlite3'}"


def _normalise_db_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver (psycopg 3).
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url_from_env() -> str:
    """DATABASE_URL, or the SQLite file under instance/ when it is not set."""
    return _normalise_db_url(os.environ.get("DATABASE_URL") or _default_sqlite_url())


class BaseConfig:
    """Constants shared by every profile; values that come from the environment are in _from_env()."""

    ENV_NAME = "production"
    DEBUG = False
    TESTING = False
    SESSION_COOKIE_NAME = "sng_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    # Flask-WTF: CSRF on every POST; a token lasts as long as the longest session.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    # INSIGHT_PAGE_SECONDS (see _from_env): five minutes, as the dashboards' summaries are refreshed.
    INSIGHT_PAGE_SECONDS = 300

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Refuse to start with settings that are unsafe for this environment."""


def _from_env() -> dict:
    env = os.environ
    # What the service is called in every page title, email and calendar; the sender's name unless
    # MAIL_SENDER gives its own.
    service_name = env.get("SERVICE_NAME", DEFAULT_SERVICE_NAME)
    return {
        "SERVICE_NAME": service_name,
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        # Keys the vetting audit chain; kept out of the database on purpose.
        "AUDIT_HMAC_KEY": env.get("AUDIT_HMAC_KEY", DEV_AUDIT_KEY),
        "DATABASE_URL": database_url_from_env(),
        # Sessions: a server-side session row is checked on every request (core.auth.services).
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(env.get("SESSION_ABSOLUTE_HOURS", "12")),
        # Sign-in throttling (core.auth.throttle): no lock, a growing delay. Counted in the database so
        # every app server shares it. After the free failures each further one makes the next try wait
        # the first delay, doubling up to the longest; the count starts again once the longest has
        # passed without a failure. Per account (and per browser the owner signed in with before), per
        # client address (more: offices share one), and a ceiling per minute across the service.
        "SIGN_IN_FREE_FAILURES": int(env.get("SIGN_IN_FREE_FAILURES", "5")),
        "SIGN_IN_ADDRESS_FREE_FAILURES": int(env.get("SIGN_IN_ADDRESS_FREE_FAILURES", "20")),
        "SIGN_IN_FIRST_DELAY_SECONDS": int(env.get("SIGN_IN_FIRST_DELAY_SECONDS", "1")),
        "SIGN_IN_LONGEST_DELAY_MINUTES": int(env.get("SIGN_IN_LONGEST_DELAY_MINUTES", "15")),
        "SIGN_IN_GLOBAL_FAILURES_PER_MINUTE": int(env.get("SIGN_IN_GLOBAL_FAILURES_PER_MINUTE", "120")),
        # Applying to volunteer: confirmed by a link in an email; throttled per client address (five at
        # once, then one minute doubling up to an hour) and per email address (three confirmation emails).
        "APPLY_CONFIRM_HOURS": int(env.get("APPLY_CONFIRM_HOURS", "48")),
        "APPLY_FREE_PER_ADDRESS": int(env.get("APPLY_FREE_PER_ADDRESS", "5")),
        "APPLY_FREE_PER_EMAIL": int(env.get("APPLY_FREE_PER_EMAIL", "3")),
        "APPLY_LONGEST_DELAY_MINUTES": int(env.get("APPLY_LONGEST_DELAY_MINUTES", "60")),
        # Mail over SMTP with the standard library.
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "0") == "1",
        # The From of every email ("Name <address>"); the development default is marked (.invalid).
        "MAIL_SENDER": env.get("MAIL_SENDER", f"{service_name} <no-reply@{DEV_MAIL_DOMAIN}>"),
        # Notifications (matching/notifications): the London hour the sergeants who chose one daily email
        # get it, and the London hour, the day before a booking, the volunteer is reminded of it.
        "NOTIFICATION_DIGEST_HOUR": int(env.get("NOTIFICATION_DIGEST_HOUR", "7")),
        "BOOKING_REMINDER_HOUR": int(env.get("BOOKING_REMINDER_HOUR", "18")),
        # Force vetting policy (PRODUCT.md's values marked *); validity periods are set in the app.
        "VETTING_REMINDER_DAYS": env.get("VETTING_REMINDER_DAYS", "90,30,7"),
        "VETTING_RENEWAL_LEAD_DAYS": env.get("VETTING_RENEWAL_LEAD_DAYS", "90"),
        "VETTING_APPEAL_WINDOW_DAYS": env.get("VETTING_APPEAL_WINDOW_DAYS", "14"),
        "VETTING_DBS_RECHECK_MONTHS": env.get("VETTING_DBS_RECHECK_MONTHS", "36"),
        # How often a certificate older than that needs an Update Service status check to keep counting.
        "VETTING_DBS_UPDATE_CHECK_MONTHS": env.get("VETTING_DBS_UPDATE_CHECK_MONTHS", "12"),
        # How many days back a grant may be dated when a decision is recorded late (never before the review).
        "VETTING_LATE_RECORDING_DAYS": env.get("VETTING_LATE_RECORDING_DAYS", "14"),
        # Matching: CP-SAT search per week of requests, and how long a volunteer has to answer an offer.
        "MATCH_TIME_LIMIT_SECONDS": float(env.get("MATCH_TIME_LIMIT_SECONDS", "14")),
        "MATCH_OFFER_HOURS": int(env.get("MATCH_OFFER_HOURS", "48")),
        # A running matching run whose progress (its heartbeat) has been silent this long had its worker
        # stop (killed, restarted, the machine lost): the five-minute check marks it failed, so it is
        # reported within this plus five minutes. A run writes progress at every step, and its longest
        # silent step is one week's solve (MATCH_TIME_LIMIT_SECONDS), so keep this well above that.
        "RUN_STALE_AFTER_SECONDS": int(env.get("RUN_STALE_AFTER_SECONDS", "900")),
        # A volunteer may pull out of a booking on the site until this many hours before it starts; nearer
        # the time the page gives them the team's contact instead, as the team needs a word, not an email.
        "WITHDRAW_NOTICE_HOURS": int(env.get("WITHDRAW_NOTICE_HOURS", "24")),
        # Specials' hours against their monthly commitment (matching/hours): green at or above this share
        # of the commitment served in the month, amber at or above the second, red below it.
        "SPECIALS_GREEN_PERCENT": int(env.get("SPECIALS_GREEN_PERCENT", "100")),
        "SPECIALS_AMBER_PERCENT": int(env.get("SPECIALS_AMBER_PERCENT", "50")),
        # The address people reach the service at, for links in emails.
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Behind a TLS-terminating proxy: how many proxies to trust for X-Forwarded-*.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Request size (core.hardening): a form is a few KB, so any page takes at most 1 MB; the CSV
        # import takes its own, larger limit (the file, plus room for the form around it).
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "VOLUNTEER_IMPORT_MAX_BYTES": int(env.get("VOLUNTEER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))),
        # Data protection (docs/data-protection.md): months after a volunteer leaves before the vetting
        # sweep erases their personal data, and who the privacy, accessibility and contact pages name.
        "DATA_RETENTION_MONTHS_AFTER_LEAVING": int(env.get("DATA_RETENTION_MONTHS_AFTER_LEAVING", "24")),
        "DATA_CONTROLLER": env.get("DATA_CONTROLLER", "the chief officer of the police force that runs this service"),
        "CONTACT_EMAIL": env.get("CONTACT_EMAIL", "volunteering@police.example"),
        "DATA_PROTECTION_OFFICER_EMAIL": env.get("DATA_PROTECTION_OFFICER_EMAIL", "data.protection@police.example"),
        # TEST ONLY: a file that moves the app's clock (core/clock.py; the browser tests let a deployment's
        # time pass with it). Production refuses to start with it set.
        "TEST_CLOCK_FILE": env.get("SNG_TEST_CLOCK_FILE") or None,
        # The matcher ranks lower, for this many days after the deployment, a volunteer who did not attend
        # without notice or whose sergeant would not ask for them again (unless a coordinator clears it).
        "RANKING_PENALTY_DAYS": int(env.get("RANKING_PENALTY_DAYS", "90")),
        # The JSON API (matching/api): calls each token may make in a calendar minute, counted in the database
        # so every app server shares the count. A force system paging through a year of offers at 200 a page
        # needs about 500 calls: a few minutes at this rate, while one runaway script cannot swamp the service.
        "API_RATE_LIMIT_PER_MINUTE": int(env.get("API_RATE_LIMIT_PER_MINUTE", "120")),
    } | (
        # How long a dashboard page, once worked out for a period and area, is served again to anyone asking for
        # the same (matching/insight/page_cache.py); the page says when its figures were worked out. 0: never.
        {"INSIGHT_PAGE_SECONDS": int(env["INSIGHT_PAGE_SECONDS"])} if env.get("INSIGHT_PAGE_SECONDS") else {}
    )


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False  # make run serves plain http on localhost


class TestingConfig(BaseConfig):
    ENV_NAME = "testing"
    TESTING = True
    # Tests change rows between two looks at a page: each look works its figures out afresh (one test turns
    # the cache on to test it).
    INSIGHT_PAGE_SECONDS = 0
    SESSION_COOKIE_SECURE = False


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"

    @classmethod
    def validate(cls, settings: dict) -> None:
        problems = []
        if settings["SECRET_KEY"] == DEV_SECRET_KEY or len(settings["SECRET_KEY"]) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if settings["AUDIT_HMAC_KEY"] == DEV_AUDIT_KEY or len(settings["AUDIT_HMAC_KEY"]) < 32:
            problems.append("AUDIT_HMAC_KEY must be set to a random value of at least 32 characters")
        if settings.get("TEST_CLOCK_FILE"):
            problems.append("SNG_TEST_CLOCK_FILE moves the app's clock and is for tests only: unset it")
        if DEV_MAIL_DOMAIN in settings["MAIL_SENDER"] or "@localhost" in settings["MAIL_SENDER"]:
            problems.append("MAIL_SENDER must be set to the address the force sends from (Name <address>)")
        for key in ("NOTIFICATION_DIGEST_HOUR", "BOOKING_REMINDER_HOUR"):
            if not 0 <= settings[key] <= 23:
                problems.append(f"{key} must be an hour from 0 to 23")
        if problems:
            raise ConfigError("Refusing to start in production: " + "; ".join(problems))


PROFILES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(overrides: dict | None = None) -> dict:
    """Return the settings for FLASK_ENV (or overrides["ENV_NAME"]), validated, overrides applied."""
    overrides = overrides or {}
    env_name = overrides.get("ENV_NAME") or os.environ.get("FLASK_ENV", "production")
    try:
        profile = PROFILES[env_name]
    except KeyError:
        raise ConfigError(f"FLASK_ENV must be one of {', '.join(PROFILES)}, not {env_name!r}") from None
    settings = {key: getattr(profile, key) for key in dir(profile) if key.isupper()}
    settings.update(_from_env())
    settings.update(overrides)
    settings["DATABASE_URL"] = _normalise_db_url(settings["DATABASE_URL"])
    profile.validate(settings)
    return settings
