"""Headers on every response, cookies, error pages."""

from __future__ import annotations

import re

from core.auth.models import Role
from tests.helpers import make_user


def test_security_headers_on_every_response(client, db):
    for path in ["/sign-in", "/no-such-page", "/static/build/app.css"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
        assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", csp)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in response.headers  # plain http here
        response.close()  # a static file response holds the file open until closed


def test_nonce_is_fresh_per_request_and_used_by_the_page_scripts(client):
    first, second = client.get("/sign-in"), client.get("/sign-in")
    nonce = re.search(r"'nonce-([\w-]+)'", first.headers["Content-Security-Policy"]).group(1)
    assert nonce not in second.headers["Content-Security-Policy"]
    scripts = first.soup.select("script")
    assert scripts and all(s.get("nonce") == nonce for s in scripts)


def test_hsts_when_served_over_https(client):
    response = client.get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_signed_in_pages_are_not_cached(client, db):
    user = make_user(db, Role.COORDINATOR)
    client.sign_in(user.email)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, db):
    user = make_user(db)
    response = client.submit("/sign-in", {"email": user.email, "password": "a-long-test-password-42"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # testing profile serves http; production sets Secure (test_config)


def test_not_found_page_is_in_the_service_style(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.soup.select_one("h1").get_text(strip=True) == "Page not found"
    assert response.soup.select_one("header .govuk-header")


def test_get_never_changes_state(app):
    # Every route that accepts GET is either a page or the health check; state changes are POST-only.
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"auth.sign_out", "auth.disable_account", "auth.enable_account"}:
            assert rule.methods & {"GET"} == set(), rule.endpoint


def test_health_check(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_unexpected_errors_get_the_generic_500_page(database_url):
    from core import create_app
    from core.permissions import public
    from tests.helpers import CheckedClient
    from tests.integration.conftest import TEST_SECRET

    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET})
    app.test_client_class = CheckedClient

    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("database fell over: secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.soup.select_one("h1").get_text(strip=True) == "Sorry, there is a problem with the service"
    assert "secret detail" not in response.get_data(as_text=True)
    app.extensions["db_engine"].dispose()
