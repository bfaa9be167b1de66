"""Every admin page, as each role, on a laptop (1366 x 900) and a phone (390 x 844), in a
real headless Chromium: no sideways scrolling of the page, no console errors, nothing the
Content-Security-Policy refused, a slim header on the phone and controls big enough to tap.
The pages come from the app's url_map (tests/admin/pages.py), so a new page is checked
without anyone adding it here.

Screenshots of each page at both sizes (the owner's) go to tests/test-artifacts/pages/;
with UPDATE_SCREENSHOTS=1 the ones the docs show are copied to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from app import create_app
from config import TestConfig
from tests.admin.pages import ROLES, Page, admin_pages, seed
from tests.chat import AUTH_TOKEN
from tests.staff import PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "pages"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
# On a phone the top bar is one slim row (its menu folded); 350 px of 844 it once took.
PHONE_HEADER_MAX = 72
# Buttons, fields and menu links at least this tall on a phone (44 px is the usual advice;
# a little less leaves room for a border).
TAP_MIN = 40
# Shown in docs/admin.md and the README: page name -> file name.
DOC_SHOTS = {
    "inbox_list": "inbox",
    "conversation": "conversation",
    "dashboard": "dashboard",
    "departure_page": "departure",
    "staff_list": "staff",
    "settings_page": "settings",
}

# Collected in the page before anything runs: what the policy refused, and script errors.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__problems.push("CSP refused " + e.violatedDirective + ": " + (e.blockedURI || "inline"));
});
window.addEventListener("error", (e) => window.__problems.push("error: " + e.message));
"""

MEASURE = (Path(__file__).parent / "measure_page.js").read_text()


@pytest.fixture
def served(
    pg_url: str, factory: sessionmaker[Session]
) -> Iterator[tuple[str, Flask, dict[str, Any]]]:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    server = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    config.PUBLIC_BASE_URL = base_url
    app = create_app(config)
    server.app = app  # type: ignore[attr-defined]
    seeded = seed(app, factory, base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, app, seeded
    finally:
        server.shutdown()


def log_in(context: Any, base_url: str, email: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def keep_errors(console: list[str], message: Any) -> None:
    if message.type == "error":
        console.append(message.text)


def check(page: Any, base_url: str, target: Page, size: str, console: list[str]) -> list[str]:
    """What is wrong with this page at this size (nothing, ideally). console: the page's
    console errors, collected by a listener."""
    console.clear()
    response = page.goto(base_url + target.url, wait_until="load")
    if "text/html" not in (response.headers.get("content-type") or ""):
        return []  # not a page
    found = page.evaluate(MEASURE, TAP_MIN)
    problems = []
    if response.status >= 500:
        problems.append(f"status {response.status}")
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(
            f"scrolls sideways: {found['scrollWidth']} px wide in {found['innerWidth']}"
            f" (too wide: {', '.join(found['wide']) or '?'})"
        )
    problems += found["problems"]
    refused = response.status in (403, 404)  # a role's refusal (the page itself is checked)
    problems += [
        f"console: {text}"
        for text in console
        if not (refused and text.startswith("Failed to load resource: the server responded"))
    ]
    if size == "phone":
        if found["header"] > PHONE_HEADER_MAX:
            problems.append(f"header {found['header']} px tall (at most {PHONE_HEADER_MAX})")
        if found["small"]:
            problems.append("too small to tap: " + "; ".join(found["small"][:6]))
    return [f"{target.url} at {size}: {p}" for p in problems]


def test_every_admin_page_fits_a_phone_and_a_laptop_for_every_role(
    browser: Any, served: tuple[str, Flask, dict[str, Any]]
) -> None:
    base_url, app, seeded = served
    pages = admin_pages(app, seeded)
    names = {p.endpoint for p in pages}
    assert {"admin.dashboard", "admin.inbox_list", "admin.conversation"} <= names
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role, email in ROLES.items():
        for size, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_init_script(WATCH)
            page = log_in(context, base_url, email)
            if size == "phone":  # the menu is folded behind one button, and opens
                assert not page.is_visible("#nav a[href='/admin/inbox']")
                page.click("[data-menu-toggle]")
                assert page.is_visible("#nav a[href='/admin/inbox']")
            console: list[str] = []
            page.on("console", partial(keep_errors, console))
            for target in pages:
                problems += check(page, base_url, target, size, console)
                if role == "owner":
                    shot = ARTIFACTS / f"{target.name}-{size}.png"
                    page.screenshot(path=str(shot), full_page=size == "laptop")
                    if os.environ.get("UPDATE_SCREENSHOTS") == "1" and target.name in DOC_SHOTS:
                        shutil.copy(shot, DOCS / f"{DOC_SHOTS[target.name]}-{size}.png")
            context.close()
    assert not problems, "\n".join(problems)
