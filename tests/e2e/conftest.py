"""Browser tests: Debian's Chromium, driven by Playwright, against the app served by waitress.

The server is a real WSGI server in its own process on 127.0.0.1, with a freshly migrated
SQLite database and demo data. On failure a screenshot and the page HTML are kept in
test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from core.auth import totp
from core.demo import DEMO_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "neighbourhood-demo-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """The messages the served app sends, caught by a real SMTP server on a loopback port."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait_for(self, to: str, subject_contains: str, after: int = 0, timeout: float = 15.0):
        """The first message to ``to`` whose subject contains the words, among those from index ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if message["To"] == to and subject_contains in message["Subject"]:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} about {subject_contains!r}: {[m['Subject'] for m in self.messages]}")


@pytest.fixture(scope="session")
def mailbox():
    inbox = Mailbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def clock_file(tmp_path_factory) -> Path:
    """The served app's clock file (core/clock.py): empty, so the app keeps real time until a test moves it."""
    path = tmp_path_factory.mktemp("clock") / "clock"
    path.write_text("")
    return path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, mailbox, clock_file):
    workdir = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {
        **os.environ,
        "FLASK_ENV": "testing",
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": f"sqlite:///{workdir / 'e2e.sqlite3'}",
        "SECRET_KEY": "e2e-secret-key-" + "x" * 32,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mailbox.port),
        # Links in emails lead back to this server.
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        # The app's clock, moved by a test with the app_clock fixture (core/clock.py; test-only).
        "SNG_TEST_CLOCK_FILE": str(clock_file),
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load", "--scale", "60"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed below, after the server stops
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                log.close()
                raise RuntimeError("the app server did not start:\n" + (workdir / "server.log").read_text()) from None
            time.sleep(0.2)
    yield base_url
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture
def app_clock(live_server, clock_file):
    """Move the served app's clock: ``app_clock(moment)`` makes it read ``moment`` now (and run on from there).
    Put back to real time after the test, so the tests after it see the app as it was."""

    def set_to(moment: dt.datetime) -> None:
        clock_file.write_text(moment.astimezone(dt.UTC).isoformat())

    yield set_to
    clock_file.write_text("")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make install` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, request):
    """Open pages in fresh browser contexts (one per person in the journey); keep evidence on failure."""
    contexts = []

    def open_page(width: int = 1024) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                name = f"{stem}-{index}-{number}"
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content())
    for context in contexts:
        context.close()


_axe = Axe()

# Every element of the page whose box reaches past the viewport's edges, at the width the page is
# shown at: a wide table inside a scrolling wrapper counts, since the reader must scroll it sideways.
# Visually hidden text (a 1 px clipped box, as GOV.UK's class and the skip link make it) and whatever
# sits inside it are not seen, so they do not count.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      const box = node.getBoundingClientRect();
      if (box.width <= 1 && box.height <= 1 && style.overflow !== "visible") return true;
      if (style.clipPath === "inset(50%)" || style.clip === "rect(0px, 0px, 0px, 0px)") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if ((box.right > width + 0.5 || box.left < -0.5) && !clipped(el)) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
      const classes = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim() : "";
      const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 40);
      found.push(`${name}${classes} (${Math.round(box.left)}..${Math.round(box.right)}px) "${text}"`);
    }
  }
  return found;
}"""


def check_page(page: Page) -> None:
    """Run on every page a journey visits: axe with all its rules, failing on a violation of any
    impact (minor and moderate ones such as `region` included), and, at 320 px — the narrowest width we
    support, so 375 px is covered too — no sideways scrolling of the page and no element wider than the
    viewport (a table scrolling inside its wrapper is still sideways scrolling).
    """
    results = _axe.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert not bad, f"{page.url}: accessibility violations:\n" + "\n".join(bad)
    original = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 800})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate(_OVERFLOWING)
    finally:
        page.set_viewport_size(original)
    assert overflow <= 0, f"{page.url}: scrolls sideways by {overflow}px at 320px wide"
    assert not wide, f"{page.url}: wider than the viewport at 320px:\n" + "\n".join(wide[:10])


# ---- Signing in, with the second step where the account has one -----------------------------------

# (server, email) → the last time step whose code was used: each code works once, so a second sign-in
# of the same account within 30 seconds takes the next step's code (or waits for it).
_used_steps: dict[tuple[str, str], int] = {}


def demo_code(base: str, account: str) -> str:
    """A code of the published demo authenticator app that this account has not used yet on that server."""
    key = (base, account)
    while True:
        now = totp.step_at(dt.datetime.now(dt.UTC))
        step = max(now, _used_steps.get(key, now - 1) + 1)
        if step <= now + totp.WINDOW:
            break
        time.sleep(1)
    _used_steps[key] = step
    return totp.code_at_step(DEMO_TOTP_SECRET, step)


def sign_in(page: Page, base: str, account: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in as a person would; for the demo coordinator and vetting officers, type the code their
    authenticator app shows (the demo's shares a published key: core.demo.DEMO_TOTP_SECRET)."""
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(account)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).not_to_have_text("Sign in")
    if page.locator("h1").inner_text().strip() == "Enter your security code":
        page.get_by_label("Security code").fill(demo_code(base, account))
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("h1")).not_to_have_text("Enter your security code")
