"""Playwright for the page tests: Debian's Chromium, a signed-in tab, a record of the API calls it
makes, axe-core's accessibility checks, and screenshots (desktop and 375 px) into a git-ignored folder."""

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request, ViewportSize

from local.stack_process import REPO_ROOT, Stack

CHROMIUM: Final = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS: Final = Path(os.environ.get("SCREENSHOT_DIR") or REPO_ROOT / ".screenshots")
DESKTOP: Final[ViewportSize] = {"width": 1280, "height": 800}
PHONE: Final[ViewportSize] = {"width": 375, "height": 812}
_API_PATHS: Final = ("/jobs", "/catalog", "/datasets")  # the datasets page is /training/datasets
# axe-core from npm (package-lock.json), injected into the page under test; never served by the site.
AXE_SCRIPT: Final = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS: Final = ("serious", "critical")


@dataclass
class ApiCall:
    method: str
    path: str
    query: str
    body: Any
    headers: dict[str, str]
    at: float  # time.monotonic() when Playwright reported it


@dataclass
class Tab:
    """One signed-in browser tab and every API call it made."""

    page: Page
    stack: Stack
    user: str
    calls: list[ApiCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.stack.api}{path}"

    def calls_to(self, method: str, path: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def wait_until(self, condition: Callable[[], bool], timeout_s: float = 10) -> None:
        """Let the page run (timers, network) until `condition` holds."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            self.page.wait_for_timeout(50)

    def check_and_screenshot(self, name: str, *, on_screen: bool = False) -> None:
        """The page as it is now, at desktop and phone size: no serious or critical axe-core violation,
        and a full-page screenshot of each (`on_screen`: also what the screen shows, where a sticky
        part sits); then back to the desktop size."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("375px", PHONE)):
            self.page.set_viewport_size(size)
            violations = accessibility_violations(self.page)
            assert violations == [], f"{name} at {label}: {violations}"
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
            if on_screen:  # around the focus, as the page left it before the resize moved it
                self.page.evaluate(
                    "() => document.activeElement !== document.body"
                    " && document.activeElement?.scrollIntoView({ block: 'center' })"
                )
                self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}-screen.png")
        self.page.set_viewport_size(DESKTOP)


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now: 'rule: element, ...' each.
    Injected through the debugging protocol (page.evaluate), so a page's CSP does not stop it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text())
    found = page.evaluate(
        """async (impacts) => {
            const result = await window.axe.run(document, { resultTypes: ["violations"] });
            return result.violations
                .filter((v) => impacts.includes(v.impact))
                .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }""",
        list(BLOCKING_IMPACTS),
    )
    return [str(violation) for violation in found]


def open_signed_in_tab(browser: Browser, stack: Stack, user: str | None = None) -> Tab:
    """A fresh tab signed in through the sign-in page, as a person does it."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    tab = Tab(page, stack, user or f"user-{uuid.uuid4().hex[:12]}")
    page.on("request", lambda request: _record(tab, request))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on(  # a page file, script or stylesheet that failed to load (API answers are checked by tests)
        "response",
        lambda response: (
            tab.errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not urlsplit(response.url).path.startswith(_API_PATHS)
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            tab.errors.append(message.text)
            if message.type == "error" and "status of 4" not in message.text  # 4xx answers are expected
            else None
        ),
    )
    page.goto(tab.url("/training/signin?next=/training/jobs"))
    page.get_by_label("User name").fill(tab.user)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/training/jobs")
    page.locator("#jobs-summary").filter(has_text="job").wait_for()  # the list answered: signed in
    tab.calls.clear()
    return tab


def _record(tab: Tab, request: Request) -> None:
    parts = urlsplit(request.url)
    if not parts.path.startswith(_API_PATHS):
        return
    body = json.loads(request.post_data) if request.post_data else None
    tab.calls.append(
        ApiCall(request.method, parts.path, parts.query, body, request.headers, time.monotonic())
    )
