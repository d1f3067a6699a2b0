"""The configuration page, the job page and the jobs list in real headless Chromium, against the
local stack (real functions, PostgreSQL and SQS). Each test signs in as its own user."""

import contextlib
import hashlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from psycopg import sql
from psycopg.types.json import Jsonb

from local import auth_tokens, dataset_uploads
from local.auth_tokens import SigningKey
from local.local_database import WORKER_ROLE, url_for_role
from local.sam_template import load_template
from local.seeds import DatasetSeed, insert_dataset
from local.sqs_server import ARTIFACTS_BUCKET
from local.stack_process import REPO_ROOT, Stack, http
from pipeline.db.database import Database, DatabaseSettings
from pipeline.workers import reports as job_reports
from tests.e2e.browser import CHROMIUM, DESKTOP, PHONE, Tab, accessibility_violations, open_signed_in_tab
from tests.e2e.fake_hosted_ui import FakeHostedUi
from tests.factories import RecordedStops

# The spec's defaults (Balanced, 2 x A100-80GB) over a 5 000-pair, 1.2M-token dataset.
DEFAULT_TOTAL = "$5.94"
TIMES = "\N{MULTIPLICATION SIGN}"  # as the page writes a GPU setup: 2 TIMES NVIDIA A100 80GB
DATASETS_PAGE = "/training/datasets"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Browser, stack: Stack) -> Iterator[Tab]:
    opened = open_signed_in_tab(browser, stack)
    yield opened
    opened.page.context.close()
    assert opened.errors == [], opened.errors  # no script error and no failed load on any page


def _dataset(
    stack: Stack,
    user: str,
    *,
    pairs: int = 5000,
    tokens: int = 1_200_000,
    status: str = "ready",
    training_ready: bool = True,
) -> uuid.UUID:
    return insert_dataset(
        stack.owner_database_url,
        DatasetSeed(
            auth_tokens.user_id_for(user), f"{user}'s dataset", pairs, tokens, status, training_ready
        ),
    )


def _open_configure(tab: Tab, dataset_id: uuid.UUID) -> Page:
    tab.page.goto(tab.url(f"/training/configure?datasetId={dataset_id}"))
    expect(tab.page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)
    return tab.page


def _slider(page: Page, label: str) -> Any:
    return page.get_by_label(label, exact=True)


def _jobs_of(stack: Stack, user: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        return conn.execute(
            "select id, status, preset_id, estimated_total_cost, gpu_config, hyperparameters"
            " from lora_training_jobs where user_id = %s order by created_at",
            (auth_tokens.user_id_for(user),),
        ).fetchall()


def _shown_figures(page: Page) -> dict[str, str]:
    return {
        name: page.locator(f"#figure-{name}").inner_text()
        for name in ("compute", "storage", "total", "duration", "hourly-rate", "total-steps", "throughput")
    }


def _figures_of(estimate: dict[str, Any]) -> dict[str, str]:
    """How the page must write the server's estimate."""
    return {
        "compute": f"${estimate['cost_breakdown']['compute']:.2f}",
        "storage": f"${estimate['cost_breakdown']['storage']:.2f}",
        "total": f"${estimate['estimated_cost']:.2f}",
        "duration": f"{estimate['estimated_duration_hours']:.1f} hours",
        "hourly-rate": f"${estimate['hourly_rate']:.2f}/hr",
        "total-steps": f"{estimate['training_details']['total_steps']:,}",
        "throughput": f"{estimate['training_details']['estimated_throughput_tokens_per_sec']:,} tok/s",
    }


# ---- the configuration page -----------------------------------------------------------------------


def test_signing_in_leads_back_to_the_page_with_the_balanced_estimate(browser: Browser, stack: Stack) -> None:
    user = f"user-{uuid.uuid4().hex[:12]}"
    dataset_id = _dataset(stack, user)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{stack.api}/training/configure?datasetId={dataset_id}")
        page.wait_for_url("**/training/signin?next=*")
        page.get_by_label("User name").fill(user)
        page.keyboard.press("Enter")  # the form submits from the keyboard

        page.wait_for_url(f"**/training/configure?datasetId={dataset_id}")
        expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)
        expect(page.get_by_role("button", name="Balanced")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_label("GPU Type")).to_have_value("A100-80GB")
        expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()
    finally:
        page.close()


@pytest.mark.parametrize(
    "next_path", ["//evil.example/steal", "/\\evil.example/steal", "https://evil.example/"]
)
def test_sign_in_never_sends_the_user_off_the_site(browser: Browser, stack: Stack, next_path: str) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{stack.api}/training/signin?next={urllib.parse.quote(next_path)}")
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url(f"{stack.api}/training/jobs")
    finally:
        page.close()


def test_page_shows_prices_presets_and_ranges_from_the_catalog(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    catalog = http("GET", tab.url("/catalog"), token=_token(tab)).body["data"]

    options = page.get_by_label("GPU Type").locator("option")
    assert options.all_inner_texts() == [
        f"{gpu['label']} — ${gpu['price_per_gpu_hour']:.2f}/hr" for gpu in catalog["gpu_types"]
    ]
    for control in catalog["controls"]:
        slider = _slider(page, control["label"])
        assert [slider.get_attribute(a) for a in ("min", "max", "step")] == [
            str(control[k]) if not isinstance(control[k], float) else _js_number(control[k])
            for k in ("minimum", "maximum", "step")
        ], control["field"]
    tab.check_and_screenshot("configure-default", on_screen=True)


def test_each_preset_sets_every_slider_and_moving_one_makes_it_custom(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    expected = {
        "Fast": {"Learning Rate": "0.000100", "Batch Size": "8", "Training Epochs": "1", "LoRA Rank": "8"},
        "Quality": {
            "Learning Rate": "0.000030",
            "Batch Size": "2",
            "Training Epochs": "5",
            "LoRA Rank": "32",
        },
        "Balanced": {
            "Learning Rate": "0.000050",
            "Batch Size": "4",
            "Training Epochs": "3",
            "LoRA Rank": "16",
        },
    }
    for preset, values in expected.items():
        page.get_by_role("button", name=preset).focus()
        page.keyboard.press("Enter")  # operable by keyboard
        expect(page.get_by_role("button", name=preset)).to_have_attribute("aria-pressed", "true")
        for label, shown in values.items():
            assert float(_slider(page, label).input_value()) == float(shown), (preset, label)
            assert (
                page.locator(f"output[for='{_slider(page, label).get_attribute('id')}']").inner_text()
                == shown
            )

    _slider(page, "Training Epochs").focus()
    page.keyboard.press("ArrowRight")

    expect(page.locator(".preset button[aria-pressed='true']")).to_have_count(0)
    expect(page.locator("#hyperparameters-description")).to_contain_text("Custom settings")
    expect(page.locator("#figure-total")).to_be_visible()
    page.get_by_role("button", name="Start Training").click()
    page.wait_for_url("**/training/jobs/*")
    ((_, _, preset_id, _, _, hyperparameters),) = _jobs_of(stack, tab.user)
    assert preset_id == "custom"
    assert hyperparameters == {
        "learning_rate": 0.00005,
        "batch_size": 4,
        "epochs": 4,
        "rank": 16,
        "alpha": 32,
        "dropout": 0.1,
    }


def test_moving_the_gpu_count_sends_one_estimate_after_the_pause_and_shows_its_figures(
    tab: Tab, stack: Stack
) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    tab.calls.clear()
    responses: list[dict[str, Any]] = []
    page.on(
        "response",
        lambda r: responses.append(r.json()["data"]) if r.url.endswith("/jobs/estimate") and r.ok else None,
    )

    slider = _slider(page, "Number of GPUs")
    slider.focus()
    for _ in range(3):  # 2 -> 5, faster than the 500 ms pause
        page.keyboard.press("ArrowRight")
    last_change = time.monotonic()
    expect(page.locator("#estimate-loading")).to_be_visible()
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    tab.wait_until(lambda: len(responses) == 1)
    page.wait_for_timeout(800)  # room for a wrong second request

    (call,) = tab.calls_to("POST", "/jobs/estimate")
    assert call.body["gpu_config"] == {"type": "A100-80GB", "count": 5}
    assert call.at - last_change > 0.4  # sent after the pause, not on each key press
    assert _shown_figures(page) == _figures_of(responses[0])
    assert responses[0]["estimated_cost"] == 11.19
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()
    expect(page.locator("#hint-gpu_config\\.count")).to_contain_text("5x faster")


def _fully_on_screen(page: Page, selector: str) -> bool:
    """Inside the viewport and not covered by anything else at its centre."""
    return bool(
        page.evaluate(
            """(selector) => {
                const element = document.querySelector(selector);
                const box = element.getBoundingClientRect();
                if (box.width === 0 || box.top < 0 || box.left < 0) return false;
                if (box.bottom > innerHeight || box.right > innerWidth) return false;
                const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
                return top !== null && (top === element || element.contains(top));
            }""",
            selector,
        )
    )


def _box_in_document(page: Page, selector: str) -> dict[str, float]:
    """Where the element is on the page (not on the screen: scrolling does not move it)."""
    box: dict[str, float] = page.evaluate(
        """(selector) => {
            const r = document.querySelector(selector).getBoundingClientRect();
            return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height };
        }""",
        selector,
    )
    return box


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "375x812"])
def test_the_price_is_on_screen_beside_start_training_wherever_the_page_is_scrolled(
    tab: Tab, stack: Stack, size: Any
) -> None:
    tab.page.set_viewport_size(size)
    page = _open_configure(tab, _dataset(stack, tab.user))
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > size["height"]  # the page scrolls: the test means something

    positions = [*range(0, height, size["height"] // 2), height]
    for y in positions:
        page.evaluate("y => window.scrollTo(0, y)", y)
        assert _fully_on_screen(page, "#start"), y
        assert _fully_on_screen(page, "#summary-total"), y
        assert _fully_on_screen(page, "#summary-dataset"), y
        expect(page.locator("#summary-total")).to_have_text(DEFAULT_TOTAL)
        expect(page.locator("#summary-duration")).to_have_text("about 0.8 hours")
        expect(page.locator("#summary-dataset")).to_have_text(f"{tab.user}'s dataset")
        expect(page.get_by_role("button", name="Start Training")).to_be_enabled()

    held: list[Route] = []
    page.route("**/jobs/estimate", lambda route: held.append(route))
    page.evaluate("window.scrollTo(0, 0)")
    _slider(page, "Number of GPUs").focus()
    page.keyboard.press("ArrowRight")
    tab.wait_until(lambda: len(held) == 1)
    # While the price is being replaced: said beside the button, and the button cannot be pressed.
    assert _fully_on_screen(page, "#summary-state")
    expect(page.locator("#summary-state")).to_have_text("Updating the price...")
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    held[0].continue_()
    expect(page.locator("#summary-total")).to_have_text("$7.69")
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()
    tab.page.set_viewport_size(DESKTOP)


def test_the_old_figures_stay_dimmed_while_a_new_estimate_loads_so_nothing_moves(
    tab: Tab, stack: Stack
) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    before = _box_in_document(page, "#estimate")
    held: list[Route] = []
    page.route("**/jobs/estimate", lambda route: held.append(route))

    page.get_by_role("button", name="Quality").click()
    tab.wait_until(lambda: len(held) == 1)

    expect(page.locator("#estimate-figures")).to_have_class(re.compile("stale"))
    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)  # still there, dimmed
    expect(page.locator("#estimate-loading")).to_be_visible()
    colour = "e => getComputedStyle(e).color"
    assert page.locator("#figure-total").evaluate(colour) == "rgb(107, 114, 128)"  # greyed
    assert _box_in_document(page, "#estimate") == before
    tab.check_and_screenshot("configure-updating", on_screen=True)
    held[0].continue_()
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    expect(page.locator("#estimate-loading")).to_be_hidden()
    assert _box_in_document(page, "#estimate") == before
    assert page.locator("#figure-total").evaluate(colour) == "rgb(79, 70, 229)"  # the price's own colour


def test_an_older_estimate_arriving_late_never_replaces_the_newer_one(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if not held:
            held.append(route)  # answered below, after the newer request
        else:
            route.continue_()

    page.route("**/jobs/estimate", hold_the_first)
    _slider(page, "Number of GPUs").focus()
    page.keyboard.press("ArrowRight")  # count 3: its answer is held back
    tab.wait_until(lambda: len(held) == 1)
    page.keyboard.press("ArrowRight")  # count 4: answered at once
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    newer = page.locator("#figure-total").inner_text()
    # The stale answer arrives last. The page may already have aborted that request (one of its two
    # guards); then there is nothing left to answer.
    with contextlib.suppress(PlaywrightError):
        held[0].fulfill(response=held[0].fetch())
    page.wait_for_timeout(300)

    assert json.loads(held[0].request.post_data or "{}")["gpu_config"]["count"] == 3
    expect(page.locator("#figure-total")).to_have_text(newer)
    assert newer == "$9.44"  # 4 GPUs; 3 would be $7.69
    expect(page.locator("#value-gpu_config\\.count")).to_have_text("4")


def test_a_validation_error_appears_next_to_its_field(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))

    def oversized_batch(route: Route) -> None:  # what a stale or tampered client might send
        body = json.loads(route.request.post_data or "{}")
        body["hyperparameters"]["batch_size"] = 999
        route.continue_(post_data=json.dumps(body))

    page.route("**/jobs/estimate", oversized_batch)
    page.get_by_role("button", name="Fast").click()

    expect(page.locator("#error-hyperparameters\\.batch_size")).to_have_text("Batch Size can be at most 64.")
    expect(page.locator("#estimate-error")).to_have_text("Please change this: Batch Size can be at most 64.")
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    expect(page.locator("#summary-total")).to_have_text("—")  # no price for what is on screen
    expect(page.locator("#summary-state")).to_have_text("No price for these settings: see the message above.")
    tab.check_and_screenshot("configure-validation-error", on_screen=True)
    assert _slider(page, "Batch Size").get_attribute("aria-describedby") == (
        "hint-hyperparameters.batch_size error-hyperparameters.batch_size"
    )


def test_an_estimate_that_fails_on_the_server_side_is_said_and_retried(tab: Tab, stack: Stack) -> None:
    dataset_id = _dataset(stack, tab.user)
    answers: list[int] = []

    def unavailable_once(route: Route) -> None:
        if not answers:
            answers.append(503)
            route.fulfill(status=503, json={"error": "Service unavailable"}, headers={"Retry-After": "1"})
        else:
            answers.append(200)
            route.continue_()

    tab.page.route("**/jobs/estimate", unavailable_once)
    tab.page.goto(tab.url(f"/training/configure?datasetId={dataset_id}"))

    expect(tab.page.locator("#estimate-error")).to_contain_text("Trying again in 1 s.")
    expect(tab.page.get_by_role("button", name="Start Training")).to_be_disabled()
    expect(tab.page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)  # the retry, by itself
    expect(tab.page.locator("#estimate-error")).to_be_hidden()
    assert answers == [503, 200]
    # Chromium logs the 503 it was meant to get.
    tab.errors.remove(
        "Failed to load resource: the server responded with a status of 503 (Service Unavailable)"
    )


@pytest.mark.parametrize("whose", ["unknown", "malformed", "someone-elses"])
def test_a_dataset_that_is_not_the_users_shows_an_empty_state_and_no_form(
    tab: Tab, stack: Stack, whose: str
) -> None:
    dataset_id = {
        "unknown": str(uuid.uuid4()),
        "malformed": "not-a-dataset",
        "someone-elses": str(_dataset(stack, f"other-{uuid.uuid4().hex[:8]}")),
    }[whose]

    tab.page.goto(tab.url(f"/training/configure?datasetId={dataset_id}"))

    empty = tab.page.locator("#dataset-missing")
    expect(empty).to_contain_text("Dataset not found")
    expect(empty).to_contain_text("This dataset is not in your account")
    expect(empty.get_by_role("link", name="Go to Datasets")).to_have_attribute("href", DATASETS_PAGE)
    expect(tab.page.locator("#configure")).to_be_hidden()
    expect(tab.page.locator("#dataset")).to_be_hidden()
    assert [c.path for c in tab.calls if c.path.startswith("/datasets/")] == [f"/datasets/{dataset_id}"]
    assert tab.calls_to("POST", "/jobs/estimate") == []
    if whose == "unknown":
        tab.check_and_screenshot("configure-dataset-not-found")


def test_the_page_names_the_dataset_with_its_size_before_anything_else(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))

    block = page.locator("#dataset")
    expect(page.locator("#dataset-name")).to_have_text(f"{tab.user}'s dataset")
    expect(page.locator("#dataset-pairs")).to_have_text("5,000")
    expect(page.locator("#dataset-tokens")).to_have_text("1,200,000")
    expect(page.locator("#dataset-readiness")).to_have_text("Ready for training")
    expect(page.locator("#summary-dataset")).to_have_text(f"{tab.user}'s dataset")
    first_card = page.locator("main section.card:visible, main form:visible").first
    assert first_card.get_attribute("id") == "dataset"  # above the presets, the GPU and the price
    assert block.bounding_box()["y"] < page.locator("#presets").bounding_box()["y"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "training_ready", "said", "link"),
    [
        (
            "processing",
            False,
            "This dataset is still being validated. Training can start once it is ready",
            "Follow its validation on the datasets page",
        ),
        (
            "failed",
            False,
            "Validation found problems in its file, so this dataset cannot be trained on. See them on the"
            " datasets page, fix the file and upload it again.",
            "See the problems on the datasets page",
        ),
        ("ready", False, "This dataset has not passed its training checks yet.", "Go to Datasets"),
    ],
)
def test_a_dataset_not_ready_is_explained_and_start_training_is_never_enabled(
    tab: Tab, stack: Stack, status: str, training_ready: bool, said: str, link: str
) -> None:
    dataset_id = _dataset(stack, tab.user, status=status, training_ready=training_ready)
    page = tab.page

    page.goto(tab.url(f"/training/configure?datasetId={dataset_id}"))

    expect(page.locator("#dataset-not-ready")).to_contain_text(said)
    # The way to the datasets page, opened on this dataset: its validation followed, or its problems.
    expect(page.locator("#dataset-not-ready").get_by_role("link", name=link)).to_have_attribute(
        "href", f"{DATASETS_PAGE}?datasetId={dataset_id}"
    )
    expect(page.locator("#dataset-readiness")).to_have_text("Not ready yet")
    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)  # the price, to plan with
    expect(page.locator("#summary-state")).to_have_text("This dataset is not ready for training yet.")
    start = page.get_by_role("button", name="Start Training")
    expect(start).to_be_disabled()
    page.keyboard.press("Enter")  # no way around it: the form does not submit either
    page.evaluate("document.getElementById('configure').requestSubmit()")
    page.wait_for_timeout(300)
    assert tab.calls_to("POST", "/jobs") == []
    expect(start).to_be_disabled()
    if status in ("processing", "failed"):
        tab.check_and_screenshot(f"configure-dataset-{status}", on_screen=True)


def test_missing_dataset_id_shows_an_alert_with_a_link_to_the_datasets_page(tab: Tab) -> None:
    tab.page.goto(tab.url("/training/configure"))

    alert = tab.page.locator("#no-dataset")
    expect(alert).to_contain_text("No dataset selected. Please select a dataset from the datasets page.")
    expect(alert.get_by_role("link", name="Go to Datasets")).to_have_attribute("href", DATASETS_PAGE)
    expect(tab.page.locator("#configure")).to_be_hidden()
    assert tab.calls_to("POST", "/jobs/estimate") == []
    tab.check_and_screenshot("configure-missing-dataset")


def test_cancel_and_the_back_arrow_return_to_the_page_the_user_came_from(tab: Tab, stack: Stack) -> None:
    _dataset(stack, tab.user)
    page = tab.page
    for control in ("Cancel", "Back"):
        page.goto(tab.url(DATASETS_PAGE))  # where people pick a dataset
        page.get_by_role("link", name=f"Configure training on {tab.user}'s dataset").click()
        expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)

        page.get_by_role("button", name=control, exact=True).click()

        page.wait_for_url(tab.url(DATASETS_PAGE))


def test_back_after_signing_in_skips_the_sign_in_page(browser: Browser, stack: Stack) -> None:
    user = f"user-{uuid.uuid4().hex[:12]}"
    dataset_id = _dataset(stack, user)
    page = browser.new_page()
    page.goto(f"{stack.api}{DATASETS_PAGE}")  # where people pick a dataset: it lists the signed-in user's
    page.wait_for_url("**/training/signin?next=*")  # not signed in yet
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Sign in").click()
    page.locator(f"a[href='/training/configure?datasetId={dataset_id}']").click()
    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)

    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(f"{stack.api}{DATASETS_PAGE}")  # where the user came from, not the sign-in form
    page.close()


def test_cancel_in_a_tab_with_no_history_goes_to_the_jobs_list(tab: Tab, stack: Stack) -> None:
    configure = tab.url(f"/training/configure?datasetId={_dataset(stack, tab.user)}")
    with tab.page.context.expect_page() as opened:
        tab.page.evaluate("url => window.open(url)", configure)  # a new tab: nothing to go back to
    page = opened.value
    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)  # the session came along
    assert page.evaluate("history.length") == 1

    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(tab.url("/training/jobs"))


# ---- starting a job -------------------------------------------------------------------------------


def test_start_training_creates_the_job_and_its_page_follows_it_until_it_ends(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))

    page.get_by_role("button", name="Start Training").click()

    page.wait_for_url("**/training/jobs/*")
    ((job_id, status, preset_id, cost, gpu_config, _),) = _jobs_of(stack, tab.user)
    assert page.url.endswith(f"/training/jobs/{job_id}")
    assert (status, preset_id, cost, gpu_config) == (
        "queued",
        "balanced",
        Decimal("5.94"),
        {"type": "A100-80GB", "count": 2},
    )
    (create,) = tab.calls_to("POST", "/jobs")
    assert uuid.UUID(create.headers["idempotency-key"])
    assert create.body["estimated_cost"] == 5.94
    expect(page.locator("#job-status")).to_have_text("Queued")
    expect(page.locator("#job-estimated-cost")).to_have_text(DEFAULT_TOTAL)
    tab.check_and_screenshot("job-queued")

    _set_job(stack, job_id, "running", progress=40)
    expect(page.locator("#job-status")).to_have_text("Running", timeout=8000)  # the next 2 s poll
    expect(page.locator("#job-progress-text")).to_have_text("40%")
    _set_job(stack, job_id, "completed", progress=100)
    expect(page.locator("#job-status")).to_have_text("Completed", timeout=8000)
    polls = len(tab.calls_to("GET", f"/jobs/{job_id}"))
    page.wait_for_timeout(4500)

    assert polls >= 3
    assert len(tab.calls_to("GET", f"/jobs/{job_id}")) == polls  # a finished job is not polled
    expect(page.locator("#polling-note")).to_contain_text("Final status")


def test_a_double_click_on_start_training_creates_one_job(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))

    page.get_by_role("button", name="Start Training").dblclick()

    page.wait_for_url("**/training/jobs/*")
    assert len(_jobs_of(stack, tab.user)) == 1
    assert len(tab.calls_to("POST", "/jobs")) == 1


def test_a_repeated_submission_reuses_its_idempotency_key_and_makes_one_job(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    answered: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        response = route.fetch()  # the job is created...
        answered.append(response.status)
        if len(answered) == 1:
            route.abort("connectionreset")  # ...but the answer never reaches the page
        else:
            route.fulfill(response=response)

    page.route("**/jobs", lose_the_first_answer)
    page.get_by_role("button", name="Start Training").click()
    expect(page.locator("#submit-error")).to_contain_text("Could not reach the server")
    page.get_by_role("button", name="Start Training").click()  # the user tries again

    page.wait_for_url("**/training/jobs/*")
    first, second = tab.calls_to("POST", "/jobs")
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert answered == [201, 201]
    assert len(_jobs_of(stack, tab.user)) == 1
    tab.errors.remove("Failed to load resource: net::ERR_CONNECTION_RESET")  # the lost answer, as meant


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "375x812"])
def test_a_refusal_after_start_is_scrolled_into_view_focused_and_worded_for_people(
    tab: Tab, stack: Stack, size: Any
) -> None:
    tab.page.set_viewport_size(size)
    dataset_id = _dataset(stack, tab.user)
    page = _open_configure(tab, dataset_id)
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:  # reprocessing began
        conn.execute("update lora_datasets set status = 'processing' where id = %s", (dataset_id,))
    page.evaluate("window.scrollTo(0, 0)")

    page.get_by_role("button", name="Start Training").click()

    error = page.locator("#submit-error")
    expect(error).to_have_text(
        "This dataset is still being validated. Training can start once it is ready:"
        " come back in a few minutes."
    )
    expect(error).to_be_focused()
    assert _fully_on_screen(page, "#submit-error")
    expect(page.locator("#dataset-readiness")).to_have_text("Not ready yet")  # read again, as it is now
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    assert len(tab.calls_to("POST", "/jobs")) == 1
    assert _jobs_of(stack, tab.user) == []
    if size == PHONE:
        tab.check_and_screenshot("configure-start-refused", on_screen=True)
    tab.page.set_viewport_size(DESKTOP)


def test_an_out_of_date_estimate_shows_the_new_figure_and_starts_only_when_confirmed(
    tab: Tab, stack: Stack
) -> None:
    dataset_id = _dataset(stack, tab.user)
    page = _open_configure(tab, dataset_id)
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:  # the dataset was reprocessed
        conn.execute(
            "update lora_datasets set total_training_pairs = 10000, total_tokens = 2400000 where id = %s",
            (dataset_id,),
        )

    page.get_by_role("button", name="Start Training").click()

    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("it was $5.94, it is now $7.89")
    expect(page.locator("#figure-total")).to_have_text("$7.89")
    expect(page.locator("#summary-total")).to_have_text("$7.89")
    expect(page.get_by_role("button", name="Start Training at $7.89")).to_be_focused()
    assert _fully_on_screen(page, "#confirm-start")
    expect(
        page.get_by_role("button", name="Start Training", exact=True)
    ).to_be_disabled()  # only the dialog's
    expect(page.locator("#summary-state")).to_have_text("The price changed: confirm the new price above.")
    assert _jobs_of(stack, tab.user) == []
    tab.check_and_screenshot("configure-estimate-out-of-date", on_screen=True)
    page.get_by_role("button", name="Keep editing").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Start Training", exact=True)).to_be_enabled()  # at $7.89 now
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:  # and back again
        conn.execute(
            "update lora_datasets set total_training_pairs = 5000, total_tokens = 1200000 where id = %s",
            (dataset_id,),
        )
    page.get_by_role("button", name="Start Training", exact=True).click()
    expect(page.get_by_role("button", name="Start Training at $5.94")).to_be_focused()

    page.keyboard.press("Enter")  # confirmed in the dialog

    page.wait_for_url("**/training/jobs/*")
    ((_, _, _, cost, _, _),) = _jobs_of(stack, tab.user)
    assert cost == Decimal("5.94")
    assert [call.body["estimated_cost"] for call in tab.calls_to("POST", "/jobs")] == [5.94, 7.89, 5.94]


def _set_monthly_limit(tab: Tab, dollars: str | None) -> None:
    answer = http(
        "PUT", tab.url("/account/limits"), token=_token(tab),
        body={"monthly_spend_limit": None if dollars is None else float(dollars)},
    )  # fmt: skip
    assert answer.status == 200, answer


def test_the_months_spend_is_beside_the_price_and_a_job_past_the_limit_cannot_start(
    tab: Tab, stack: Stack
) -> None:
    dataset_id = _dataset(stack, tab.user)
    page = _open_configure(tab, dataset_id)
    expect(page.locator("#summary-month")).to_be_hidden()  # no limit, no line
    _set_monthly_limit(tab, "5")

    page.reload()

    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)
    expect(page.locator("#summary-month")).to_have_text(
        "This month: $0.00 spent of your $5.00 limit; $5.00 left."
    )
    expect(page.locator("#summary-state")).to_have_text("This job does not fit your monthly spending limit.")
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    tab.check_and_screenshot("configure-past-monthly-limit", on_screen=True)

    _set_monthly_limit(tab, "100")
    page.reload()
    expect(page.locator("#summary-month")).to_have_text(
        "This month: $0.00 spent of your $100.00 limit; $100.00 left."
    )
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()
    _set_monthly_limit(tab, "5")  # lowered elsewhere, after this page priced the job

    page.get_by_role("button", name="Start Training").click()

    expect(page.locator("#submit-error")).to_have_text(
        "This job ($5.94) would take this month past your $5.00 spending limit: $0.00 is charged and"
        " $0.00 is held by jobs not yet finished. Raise your limit, choose a cheaper configuration, or wait"
        " for those jobs to end. Nothing was started."
    )
    assert _jobs_of(stack, tab.user) == []
    assert len(tab.calls_to("POST", "/jobs")) == 1  # a refusal is not retried as a request in progress
    _set_monthly_limit(tab, "100")  # raised again: the same press of Start Training now fits

    page.get_by_role("button", name="Start Training").click()

    page.wait_for_url("**/training/jobs/*")
    ((_, status, _, cost, _, _),) = _jobs_of(stack, tab.user)
    assert (status, cost) == ("queued", Decimal("5.94"))


# ---- the base model and the GPUs that hold it -----------------------------------------------------


def _model_of_jobs(stack: Stack, user: str) -> list[str]:
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        rows = conn.execute(
            "select base_model from lora_training_jobs where user_id = %s order by created_at",
            (auth_tokens.user_id_for(user),),
        ).fetchall()
    return [row[0] for row in rows]


def _with_catalog(page: Page, change: Any) -> None:
    """The page gets GET /catalog as `change` leaves it: what another catalog would make it do."""

    def changed(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        change(body["data"])
        route.fulfill(response=response, json=body)

    page.route("**/catalog", changed)


def test_the_model_picker_comes_first_and_each_model_says_its_size_context_and_licence(
    tab: Tab, stack: Stack
) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))

    radios = page.get_by_role("radiogroup", name="Base Model").get_by_role("radio")
    expect(radios).to_have_count(4)
    expect(page.get_by_role("radio", name="Mistral 7B v0.3")).to_be_checked()  # the catalog's default
    cards = {
        "llama-3.2-3b": (
            "Llama 3.2 3B",
            "3.2 B parameters",
            "128K tokens context",
            "Llama 3.2 Community License",
        ),
        "mistral-7b-v0.3": ("Mistral 7B v0.3", "7.2 B parameters", "32K tokens context", "Apache-2.0"),
        "mistral-nemo-12b": ("Mistral NeMo 12B", "12.2 B parameters", "128K tokens context", "Apache-2.0"),
        "llama-3.1-70b": (
            "Llama 3.1 70B",
            "70.6 B parameters",
            "128K tokens context",
            "Llama 3.1 Community License",
        ),
    }
    for model_id, (name, size, context, licence) in cards.items():
        card = page.locator(f".model[data-model='{model_id}']")
        for said in (name, size, context, f"Licence: {licence}"):
            expect(card).to_contain_text(said)
    expect(page.locator(".model[data-model='llama-3.1-70b']")).to_contain_text(
        f"Smallest GPU setup: 2 {TIMES} NVIDIA A100 80GB"
    )
    # First in the form, above the presets; its facts describe each radio.
    assert page.locator("#configure section.card").first.get_attribute("aria-labelledby") == "model-title"
    nemo = page.get_by_role("radio", name="Mistral NeMo 12B")
    expect(nemo).to_have_attribute("aria-describedby", "model-mistral-nemo-12b-facts")
    (estimate,) = tab.calls_to("POST", "/jobs/estimate")
    assert estimate.body["base_model"] == "mistral-7b-v0.3"
    page.get_by_role("radio", name="Mistral 7B v0.3").focus()  # the screen's shot: around the picker
    tab.check_and_screenshot("configure-model-picker", on_screen=True)


def test_picking_a_model_reprices_the_job_and_the_job_page_and_list_name_it(tab: Tab, stack: Stack) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    tab.calls.clear()

    page.get_by_role("radio", name="Mistral 7B v0.3").focus()
    page.keyboard.press("ArrowRight")  # a radio group: arrow keys pick the next model
    page.keyboard.press("ArrowRight")

    expect(page.get_by_role("radio", name="Llama 3.1 70B")).to_be_checked()
    expect(page.locator(".model[data-model='llama-3.1-70b']")).to_have_class(re.compile("selected"))
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    (call,) = tab.calls_to("POST", "/jobs/estimate")  # one request, after the pause, for the last model
    assert call.body["base_model"] == "llama-3.1-70b"
    assert call.body["gpu_config"] == {"type": "A100-80GB", "count": 2}  # the GPUs stayed as they were
    expected = http("POST", tab.url("/jobs/estimate"), token=_token(tab), body=call.body).body["data"]
    assert expected["base_model"] == "llama-3.1-70b"
    assert _shown_figures(page) == _figures_of(expected)
    assert expected["estimated_cost"] > float(DEFAULT_TOTAL.removeprefix("$"))  # a 70B trains slower
    expect(page.locator("#summary-total")).to_have_text(f"${expected['estimated_cost']:.2f}")
    expect(page.locator("#gpu-fit")).to_be_hidden()  # 2 x A100 80GB hold it

    page.get_by_role("button", name="Start Training").click()

    page.wait_for_url("**/training/jobs/*")
    (create,) = tab.calls_to("POST", "/jobs")
    assert create.body["base_model"] == "llama-3.1-70b"
    assert _model_of_jobs(stack, tab.user) == ["llama-3.1-70b"]
    expect(page.locator("#job-model-summary")).to_have_text("Llama 3.1 70B")
    expect(page.locator("#job-subtitle")).to_contain_text("Base model: Llama 3.1 70B · Created")
    expect(page.locator("#job-base-model")).to_have_text("Llama 3.1 70B")
    tab.check_and_screenshot("job-names-its-model")
    page.goto(tab.url("/training/jobs"))
    expect(page.locator("#jobs-rows td[data-label=Model]")).to_have_text(["Llama 3.1 70B"])
    expect(page.get_by_role("columnheader", name="Model")).to_be_visible()
    tab.check_and_screenshot("jobs-list-with-models")


def test_gpus_too_small_for_the_model_are_said_beside_them_and_start_training_stays_off(
    tab: Tab, stack: Stack
) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    page.get_by_label("GPU Type").select_option("V100-32GB")
    _slider(page, "Number of GPUs").focus()
    page.keyboard.press("ArrowLeft")  # 1 x V100 32GB: Mistral 7B fits it
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()
    tab.calls.clear()

    page.get_by_role("radio", name="Mistral NeMo 12B").check()

    fit = page.locator("#error-gpu_config")
    expect(fit).to_have_text(
        f"Mistral NeMo 12B does not fit on 1 {TIMES} NVIDIA V100 32GB at batch size 4 and LoRA rank 16:"
        " it needs 34.1 GiB on each GPU, more than the 32 GiB each has. 2 or more of these GPUs hold it."
        f" The smallest setup that fits: 1 {TIMES} NVIDIA A100 40GB."
    )
    expect(page.get_by_label("GPU Type")).to_have_value("V100-32GB")  # the user's choice, kept
    expect(page.locator("#value-gpu_config\\.count")).to_have_text("1")
    v100 = page.locator("#gpu-type option[value='V100-32GB']")
    expect(v100).to_have_text("NVIDIA V100 32GB — $2.10/hr — needs ≥ 2 GPUs")
    expect(v100).to_be_enabled()  # 2 of them would do
    start = page.get_by_role("button", name="Start Training")
    expect(start).to_be_disabled()
    expect(page.locator("#summary-total")).to_have_text("—")
    expect(page.locator("#summary-state")).to_have_text(
        "Mistral NeMo 12B does not fit on these GPUs: see GPU Configuration."
    )
    expect(page.locator("#estimate-error")).to_have_text(
        "No price: Mistral NeMo 12B does not fit on these GPUs (see GPU Configuration)."
    )
    assert "error-gpu_config" in (page.get_by_label("GPU Type").get_attribute("aria-describedby") or "")
    page.wait_for_timeout(700)  # past the pause: the server is not asked what it would refuse
    assert tab.calls_to("POST", "/jobs/estimate") == []
    page.evaluate("document.getElementById('configure').requestSubmit()")  # nor can the form be sent
    assert tab.calls_to("POST", "/jobs") == []
    page.get_by_label("GPU Type").focus()  # the screen's shot: around the GPUs and what is said of them
    tab.check_and_screenshot("configure-gpus-too-small", on_screen=True)

    page.get_by_role("button", name=f"Use 1 {TIMES} NVIDIA A100 40GB").click()  # the one way it changes them

    expect(page.get_by_label("GPU Type")).to_have_value("A100-40GB")
    expect(page.get_by_label("GPU Type")).to_be_focused()
    expect(page.locator("#gpu-fit")).to_be_hidden()
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    expect(start).to_be_enabled()
    (call,) = tab.calls_to("POST", "/jobs/estimate")
    assert (call.body["base_model"], call.body["gpu_config"]) == (
        "mistral-nemo-12b",
        {"type": "A100-40GB", "count": 1},
    )


def test_a_larger_batch_that_no_longer_fits_the_gpus_is_said_without_changing_them(
    tab: Tab, stack: Stack
) -> None:
    page = _open_configure(tab, _dataset(stack, tab.user))
    page.get_by_role("radio", name="Llama 3.1 70B").check()
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))  # 2 x A100 80GB hold it

    _slider(page, "Batch Size").focus()
    page.keyboard.press("End")  # batch 16

    expect(page.locator("#error-gpu_config")).to_have_text(
        f"Llama 3.1 70B does not fit on 2 {TIMES} NVIDIA A100 80GB at batch size 16 and LoRA rank 16:"
        " it needs 101.3 GiB on each GPU, more than the 80 GiB each has. The smallest setup that fits:"
        f" 3 {TIMES} NVIDIA A100 80GB."
    )
    expect(page.get_by_label("GPU Type")).to_have_value("A100-80GB")
    expect(page.locator("#value-gpu_config\\.count")).to_have_text("2")
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    expect(page.locator(".model[data-model='llama-3.1-70b']")).to_contain_text(
        f"Smallest GPU setup: 3 {TIMES} NVIDIA A100 80GB"
    )

    _slider(page, "Number of GPUs").focus()
    page.keyboard.press("ArrowRight")  # 3 GPUs: it fits again

    expect(page.locator("#gpu-fit")).to_be_hidden()
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()


def test_a_gpu_type_that_cannot_hold_the_model_at_any_count_is_disabled_with_the_reason(
    tab: Tab, stack: Stack
) -> None:
    def at_most_four_gpus(catalog: dict[str, Any]) -> None:  # the slider's own range decides "any count"
        (control,) = [c for c in catalog["controls"] if c["field"] == "gpu_config.count"]
        control["maximum"] = 4

    _with_catalog(tab.page, at_most_four_gpus)
    page = _open_configure(tab, _dataset(stack, tab.user))
    page.get_by_label("GPU Type").select_option("V100-32GB")
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))

    page.get_by_role("radio", name="Llama 3.1 70B").check()  # 6 x V100 32GB at the least

    options = page.locator("#gpu-type option")
    expect(options).to_have_text(
        [
            "NVIDIA A100 80GB — $3.50/hr — needs ≥ 2 GPUs",
            "NVIDIA A100 40GB — $2.80/hr — needs ≥ 4 GPUs",
            "NVIDIA H100 — $4.20/hr — needs ≥ 2 GPUs",
            "NVIDIA V100 32GB — $2.10/hr — too small for Llama 3.1 70B at batch 4, rank 16",
        ]
    )
    assert [o.is_disabled() for o in options.all()] == [False, False, False, True]
    expect(page.get_by_label("GPU Type")).to_have_value("V100-32GB")  # still what the user chose
    expect(page.locator("#gpu-type-description")).to_have_text(  # also where a phone cuts the option short
        "$2.10/hr per GPU · 32 GiB each · Budget option · too small for Llama 3.1 70B at batch 4, rank 16"
    )
    expect(page.locator("#error-gpu_config")).to_have_text(
        f"Llama 3.1 70B does not fit on 2 {TIMES} NVIDIA V100 32GB at batch size 4 and LoRA rank 16: it needs"
        " 77.3 GiB on each GPU, more than the 32 GiB each has. No number of these GPUs up to 4 holds it."
        f" The smallest setup that fits: 2 {TIMES} NVIDIA A100 80GB."
    )
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    page.get_by_label("GPU Type").focus()
    tab.check_and_screenshot("configure-gpu-type-disabled", on_screen=True)

    page.get_by_label("GPU Type").select_option("H100")

    expect(page.locator("#gpu-fit")).to_be_hidden()
    expect(page.locator("#estimate-figures")).not_to_have_class(re.compile("stale"))
    expect(page.get_by_role("button", name="Start Training")).to_be_enabled()


def test_the_servers_refusal_of_gpus_too_small_is_worded_beside_them(tab: Tab, stack: Stack) -> None:
    def roomier_v100(catalog: dict[str, Any]) -> None:  # a page that believes 1 x V100 holds NeMo
        (v100,) = [gpu for gpu in catalog["gpu_types"] if gpu["id"] == "V100-32GB"]
        v100["memory_bytes"] = 40 * 2**30

    _with_catalog(tab.page, roomier_v100)
    page = _open_configure(tab, _dataset(stack, tab.user))
    page.get_by_label("GPU Type").select_option("V100-32GB")
    _slider(page, "Number of GPUs").focus()
    page.keyboard.press("ArrowLeft")

    page.get_by_role("radio", name="Mistral NeMo 12B").check()

    said = (
        f"Mistral NeMo 12B does not fit on 1 {TIMES} V100-32GB at batch size 4 and LoRA rank 16: it needs"
        " 34.1 GiB on each GPU, more than the 32 GiB each has. The smallest setup that fits:"
        f" 1 {TIMES} A100-40GB."
    )
    expect(page.locator("#estimate-error")).to_have_text(f"Please change this: {said}")
    expect(page.locator("#error-gpu_config")).to_have_text(said)
    expect(page.locator("#gpu-fit-use")).to_be_hidden()
    expect(page.get_by_role("button", name="Start Training")).to_be_disabled()
    expect(page.locator("#summary-state")).to_have_text("No price for these settings: see the message above.")


# ---- the jobs list --------------------------------------------------------------------------------


def test_jobs_list_filters_by_status_and_pages(tab: Tab, stack: Stack) -> None:
    dataset_id = _dataset(stack, tab.user)
    _insert_jobs(stack, tab.user, dataset_id, queued=13, completed=2)
    page = tab.page
    page.goto(tab.url("/training/jobs"))

    expect(page.locator("#jobs-summary")).to_have_text("15 jobs")
    expect(page.locator("#jobs-rows tr")).to_have_count(10)
    expect(page.locator("#page-position")).to_have_text("Page 1 of 2")
    previous = page.locator("#previous-page")
    expect(previous).to_have_attribute("aria-disabled", "true")  # page 1: nowhere to go back to
    assert previous.evaluate("a => getComputedStyle(a).pointerEvents") == "none"
    assert page.locator("#next-page").evaluate("a => getComputedStyle(a).pointerEvents") == "auto"
    expect(page.get_by_role("link", name="New training job")).to_have_attribute("href", DATASETS_PAGE)
    expect(page.locator("#jobs-rows td[data-label=Created]").first).to_have_text(re.compile(r"(UTC|GMT)"))
    tab.check_and_screenshot("jobs-list")
    page.get_by_role("link", name="Next").click()
    expect(page.locator("#jobs-rows tr")).to_have_count(5)
    assert page.url.endswith("/training/jobs?page=2")

    page.get_by_label("Status").select_option("completed")

    expect(page.locator("#jobs-summary")).to_have_text("2 jobs")
    expect(page.locator("#jobs-rows .badge")).to_have_text(["Completed", "Completed"])
    assert page.url.endswith("/training/jobs?status=completed")
    assert tab.calls_to("GET", "/jobs")[-1].query == "page=1&limit=10&status=completed"
    page.go_back()  # the filter is in the address: back returns to page 2 of all jobs
    expect(page.locator("#jobs-rows tr")).to_have_count(5)
    expect(page.get_by_label("Status")).to_have_value("")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#jobs-empty")).to_contain_text("No failed jobs.")
    expect(page.locator("#jobs-table")).to_be_hidden()
    page.goto(tab.url("/training/jobs?page=7"))  # an old bookmark, past the last page
    expect(page.locator("#jobs-empty")).to_contain_text("There is no page 7: the last one is page 2.")
    expect(page.locator("#page-position")).to_have_text("Past the last page (2)")
    tab.check_and_screenshot("jobs-list-past-the-end")
    page.get_by_role("link", name="Previous").click()  # to the last page there is
    expect(page.locator("#jobs-rows tr")).to_have_count(5)
    expect(page.locator("#page-position")).to_have_text("Page 2 of 2")


# ---- the datasets page ----------------------------------------------------------------------------


def _dataset_row(
    stack: Stack, user: str, name: str, *, status: str = "ready", minutes_ago: int = 0, **columns: Any
) -> uuid.UUID:
    """A dataset of `user` as an upload and its validation left it: `columns` (examples, size_bytes,
    validation_errors, ...) as given, created `minutes_ago`."""
    ready = status == "ready"
    dataset_id = insert_dataset(
        stack.owner_database_url,
        DatasetSeed(
            auth_tokens.user_id_for(user),
            name,
            columns.pop("total_training_pairs", 950 if ready else None),
            columns.pop("total_tokens", 120_000 if ready else None),
            status,
            ready,
        ),
    )
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        conn.execute(
            "update lora_datasets set created_at = now() - make_interval(mins => %s) where id = %s",
            (minutes_ago, dataset_id),
        )
        for column, value in columns.items():
            conn.execute(
                sql.SQL("update lora_datasets set {} = %s where id = %s").format(sql.Identifier(column)),
                (Jsonb(value) if isinstance(value, dict | list) else value, dataset_id),
            )
    return dataset_id


def _datasets_of(stack: Stack, user: str) -> list[str]:
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        rows = conn.execute(
            "select name from lora_datasets where user_id = %s order by created_at desc",
            (auth_tokens.user_id_for(user),),
        ).fetchall()
    return [str(name) for (name,) in rows]


def _chat_file(path: Path, examples: int = 12, *, long_example: bool = False) -> Path:
    """A valid JSONL file of chat examples. `long_example`: the 6th is about 40,000 tokens long, past
    Mistral 7B v0.3's 32K context and within the others' 128K, and never the one held out for
    validation (the line with the smallest SHA-256: docs/datasets.md), so it is trained on."""
    long_text = "The quick brown fox jumps over the lazy dog. " * 4000

    def line(number: int, salt: int) -> str:
        answer = f"{long_text}{salt}" if long_example and number == 5 else f"Answer number {number}."
        messages = [
            {"role": "user", "content": f"Question number {number}?"},
            {"role": "assistant", "content": answer},
        ]
        return json.dumps({"messages": messages})

    for salt in range(100):
        lines = [line(number, salt) for number in range(examples)]
        digests = [hashlib.sha256(text.encode()).digest() for text in lines]
        if not long_example or digests.index(min(digests)) != 5:
            break
    path.write_text("\n".join(lines) + "\n")
    return path


def _fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], width


@pytest.fixture(scope="module")
def uploads_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack as `make run` starts it, queue consumers and all: its dataset validator validates what the
    page uploads to its S3 (the session's stack runs no consumers); its simulated worker trains, fast."""
    running = Stack.start(tmp_path_factory.mktemp("page-uploads-stack"), "--worker-speed", "3000")
    yield running
    running.stop()


@pytest.fixture
def upload_tab(browser: Browser, uploads_stack: Stack) -> Iterator[Tab]:
    opened = open_signed_in_tab(browser, uploads_stack)
    yield opened
    opened.page.context.close()
    assert opened.errors == [], opened.errors


def test_the_datasets_page_lists_the_users_datasets_newest_first_and_loads_more(
    tab: Tab, stack: Stack
) -> None:
    statuses = ["ready", "processing", "failed", "uploading"]
    said = {"ready": "Ready", "processing": "Validating", "failed": "Failed validation"}
    ids = []
    for n in range(23):  # Set 00 the newest
        status = statuses[n % 4]
        columns: dict[str, Any] = {"size_bytes": 1536 * (n + 1), "examples": 1000 + n}
        if status == "failed":
            columns |= {"validation_errors": [{"line": 0, "code": "too_few_examples", "message": "..."}]}
            columns |= {"error_count": 1}
        if status == "uploading":  # a form that expired without a file
            columns = {"upload_expires_at": "2020-01-01T00:00:00Z"}
        ids.append(_dataset_row(stack, tab.user, f"Set {n:02}", status=status, minutes_ago=n, **columns))
    _dataset_row(stack, f"other-{uuid.uuid4().hex[:8]}", "Not yours")
    page = tab.page

    page.goto(tab.url(DATASETS_PAGE))

    rows = page.locator("#list-rows tr")
    expect(rows).to_have_count(20)
    expect(rows.locator("td[data-label=Name]")).to_have_text([f"Set {n:02}" for n in range(20)])
    expect(rows.locator("td[data-label=Status]")).to_have_text(
        [said.get(statuses[n % 4], "Upload not finished") for n in range(20)]
    )
    expect(rows.nth(0).locator("td[data-label=Examples]")).to_have_text("1,000")
    expect(rows.nth(0).locator("td[data-label=Size]")).to_have_text("1.5 KiB")
    expect(rows.nth(0).locator("td[data-label=Created]")).to_have_text(re.compile(r"(UTC|GMT)"))
    expect(rows.nth(2).locator("td[data-label=Examples]")).to_have_text("—")  # counted only once ready
    expect(rows.nth(0).get_by_role("link", name="Configure training on Set 00")).to_have_attribute(
        "href", f"/training/configure?datasetId={ids[0]}"
    )
    expect(rows.locator("td[data-label=Actions] a")).to_have_count(5)  # the ready ones only
    expect(page.locator("#list-summary")).to_have_text("20 datasets shown; older ones below")
    tab.check_and_screenshot("datasets-list")

    page.get_by_role("button", name="Load more").click()

    expect(rows).to_have_count(23)
    expect(rows.locator("td[data-label=Name]").last).to_have_text("Set 22")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(rows.nth(20).get_by_role("link", name="Set 20", exact=True)).to_be_focused()  # the first new one
    expect(page.locator("#list-summary")).to_have_text("23 datasets")
    assert "Not yours" not in page.content()

    # A dataset opens in the address (a link to share, Back closes it).
    page.get_by_role("link", name="Set 04", exact=True).click()
    expect(page.locator("#detail-name")).to_have_text("Set 04")
    expect(page.locator("#detail")).to_be_focused()
    assert page.url == tab.url(f"{DATASETS_PAGE}?datasetId={ids[4]}")
    page.go_back()
    expect(page.locator("#detail")).to_be_hidden()
    assert page.url == tab.url(DATASETS_PAGE)


def test_a_failed_dataset_lists_its_first_problems_by_line_and_how_many_there_are(
    tab: Tab, stack: Stack
) -> None:
    message = "The line is not valid JSON: Expecting ',' delimiter at column 40"
    problems = [{"line": 12 + 3 * n, "code": "invalid_json", "message": message} for n in range(50)]
    dataset_id = _dataset_row(
        stack, tab.user, "Support chats v2", status="failed", size_bytes=48_213, examples=81,
        validation_errors=problems, error_count=132, validated_at="2026-12-03T12:00:00Z",
    )  # fmt: skip
    page = tab.page

    page.goto(tab.url(f"{DATASETS_PAGE}?datasetId={dataset_id}"))

    expect(page.locator("#detail-status")).to_have_text("Failed validation")
    expect(page.locator("#detail-state")).to_have_text(
        "Validation found problems in its file, so it cannot be trained on."
        " Fix them and upload the file again."
    )
    expect(page.locator("#problems-summary")).to_have_text("Showing the first 50 of 132 problems.")
    listed = page.locator("#problem-list li")
    expect(listed).to_have_count(50)
    expect(listed.first).to_have_text(
        "Line 12: The line is not valid JSON: Expecting ',' delimiter at column 40"
    )
    expect(listed.last).to_have_text(
        "Line 159: The line is not valid JSON: Expecting ',' delimiter at column 40"
    )
    expect(page.locator("#detail-size")).to_have_text("47 KiB")
    expect(page.locator("#detail").get_by_role("link", name="Configure training")).to_have_count(0)
    page.wait_for_timeout(2000)  # validation is over: the page does not ask again
    assert len(tab.calls_to("GET", f"/datasets/{dataset_id}")) == 1
    tab.check_and_screenshot("datasets-failed-many")


def test_uploading_a_file_shows_its_progress_then_its_validation_and_statistics(
    upload_tab: Tab, tmp_path: Path
) -> None:
    tab, page = upload_tab, upload_tab.page
    file = _chat_file(tmp_path / "support-chats.jsonl", long_example=True)
    size = file.stat().st_size
    page.goto(tab.url(DATASETS_PAGE))
    expect(page.locator("#list-empty")).to_be_visible()
    tab.check_and_screenshot("datasets-empty")

    # From the keyboard: Tab reaches the file input (its label looks like a button), Space opens the picker.
    # (A listener first: Playwright asks Chromium to hand it file pickers without waiting for the answer.)
    page.on("filechooser", lambda chooser: None)
    page.locator("h1").click()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file-input":
            break
    expect(page.get_by_label("Choose a file")).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(file)

    expect(page.locator("#chosen-file-name")).to_have_text("support-chats.jsonl")
    expect(page.locator("#chosen-file-size")).to_have_text(re.compile(r"^1\d\d KiB$"))
    name = page.get_by_label("Name")
    expect(name).to_have_value("support-chats")  # the file's name, to change at will
    expect(name).to_be_focused()
    name.fill("Support chats")
    tab.check_and_screenshot("datasets-file-chosen")
    # Slowed to 24 KiB/s, to watch the bar move (Chromium's network emulation, through the DevTools protocol).
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    throttle = {"offline": False, "latency": 0, "downloadThroughput": -1}
    devtools.send("Network.emulateNetworkConditions", throttle | {"uploadThroughput": 24 * 1024})

    page.get_by_role("button", name="Upload and validate").click()

    bar = page.locator("#upload-progress")
    tab.wait_until(lambda: 0 < int(bar.get_attribute("value") or 0) < 100)
    expect(page.locator("#upload-progress-text")).to_have_text(
        re.compile(r"^\d{1,2}% · [\d.]+ KiB of 1\d\d KiB$")
    )
    expect(page.locator("#upload-progress-label")).to_have_text("Uploading support-chats.jsonl")
    expect(page.locator("#detail-status")).to_have_text("Uploading")
    expect(page.get_by_role("button", name="Upload and validate")).to_be_disabled()
    tab.check_and_screenshot("datasets-uploading")
    devtools.send("Network.emulateNetworkConditions", throttle | {"uploadThroughput": -1})

    expect(bar).to_have_attribute("value", "100", timeout=30_000)
    expect(page.locator("#upload-progress-label")).to_have_text("Uploaded support-chats.jsonl")
    expect(page.locator("#upload-progress-text")).to_have_text(re.compile(r"^100% · (1\d\d KiB) of \1$"))
    expect(page.locator("#detail-status")).to_have_text("Ready", timeout=60_000)  # validated meanwhile
    dataset_id = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["datasetId"][0]
    token = _token(tab)
    dataset = http("GET", tab.url(f"/datasets/{dataset_id}"), token=token).body["data"]
    models = http("GET", tab.url("/catalog"), token=token).body["data"]["base_models"]
    assert (dataset["name"], dataset["size_bytes"], dataset["examples"]) == ("Support chats", size, 12)
    expect(page.locator("#detail-name")).to_have_text("Support chats")
    expect(page.locator("#stat-examples")).to_have_text("12")
    expect(page.locator("#stat-held-out")).to_have_text("1")
    expect(page.locator("#stat-trained-on")).to_have_text("11")
    token_rows = page.locator("#token-rows tr")
    expect(token_rows.locator("th")).to_have_text([model["name"] for model in models])  # the catalog's order
    mistral = dataset["token_counts"]["mistral-7b-v0.3"]
    assert mistral["maximum"] > 32_768
    assert mistral["over_context"] == 1
    expect(token_rows.filter(has_text="Mistral 7B v0.3").locator("td")).to_have_text(
        [f"{mistral[figure]:,}" for figure in ("total", "median", "p95", "maximum")] + ["32K"]
    )
    expect(page.locator("#context-warning-list li")).to_have_text(
        ["1 example is longer than Mistral 7B v0.3's 32K context: it cannot be trained on with that model."]
    )
    expect(page.locator("#detail").get_by_role("link", name="Configure training")).to_have_attribute(
        "href", f"/training/configure?datasetId={dataset_id}"
    )
    row = page.locator("#list-rows tr")
    expect(row.locator("td[data-label=Status]")).to_have_text(["Ready"])
    expect(row.locator("td[data-label=Examples]")).to_have_text(["12"])
    # Followed live while uploading and validating, then no more.
    asked = len(tab.calls_to("GET", f"/datasets/{dataset_id}"))
    assert asked >= 2
    page.wait_for_timeout(2500)
    assert len(tab.calls_to("GET", f"/datasets/{dataset_id}")) == asked
    tab.check_and_screenshot("datasets-ready")
    _fits_a_phone(page)


_BAD_FILE = (
    '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'
    "not json\n"
    '{"messages": [{"role": "user", "content": "Only a question?"}]}\n'
    '{"prompt": "A completion", "completion": "in a chat file"}\n'
)


def test_a_dropped_file_that_fails_validation_shows_its_problems_by_line(upload_tab: Tab) -> None:
    tab, page = upload_tab, upload_tab.page
    page.goto(tab.url(DATASETS_PAGE))
    expect(page.locator("#list-empty")).to_be_visible()

    page.evaluate(
        """([name, text]) => {
            const files = new DataTransfer();
            files.items.add(new File([text], name));
            const zone = document.getElementById("drop-zone");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: files, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        ["broken-chats.jsonl", _BAD_FILE],
    )
    expect(page.get_by_label("Name")).to_have_value("broken-chats")
    page.get_by_role("button", name="Upload and validate").click()

    expect(page.locator("#detail-status")).to_have_text("Failed validation", timeout=60_000)
    expect(page.locator("#problems-summary")).to_have_text("4 problems.")
    expect(page.locator("#problem-list li")).to_have_text(
        [
            "The whole file: The file has fewer examples than a job needs: 1 valid, at least 10 needed",
            "Line 2: The line is not valid JSON: Expecting value at column 1",
            "Line 3: The last message is not the assistant's: it is the user's",
            re.compile(r"^Line 4: The line's format differs from the file's first example"),
        ]
    )
    expect(page.locator("#detail").get_by_role("link", name="Configure training")).to_have_count(0)
    expect(page.locator("#list-rows td[data-label=Status]")).to_have_text(["Failed validation"])
    expect(page.locator("#upload-progress-text")).to_have_text(
        f"100% · {len(_BAD_FILE)} bytes of {len(_BAD_FILE)} bytes"
    )
    tab.check_and_screenshot("datasets-failed")
    _fits_a_phone(page)


def test_configure_training_on_an_uploaded_dataset_opens_its_page_where_a_job_starts(
    upload_tab: Tab, uploads_stack: Stack, tmp_path: Path
) -> None:
    tab, page = upload_tab, upload_tab.page
    uploaded = dataset_uploads.upload(
        uploads_stack.api, _token(tab), _chat_file(tmp_path / "faq.jsonl"), "FAQ"
    )
    assert uploaded.dataset["status"] == "ready"
    page.goto(tab.url(DATASETS_PAGE))
    page.get_by_role("link", name="FAQ", exact=True).click()

    page.locator("#detail").get_by_role("link", name="Configure training").click()

    page.wait_for_url(tab.url(f"/training/configure?datasetId={uploaded.id}"))
    expect(page.locator("#dataset-name")).to_have_text("FAQ")
    expect(page.locator("#dataset-pairs")).to_have_text("11")
    expect(page.locator("#dataset-readiness")).to_have_text("Ready for training")
    expect(page.locator("#figure-total")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    page.get_by_role("button", name="Start Training").click()
    page.wait_for_url(re.compile(r"/training/jobs/[0-9a-f-]{36}$"))
    expect(page.locator("#job-title")).to_have_text("Training Job: FAQ")


def test_deleting_a_dataset_asks_first_and_one_that_jobs_use_is_refused_in_words(
    tab: Tab, stack: Stack
) -> None:
    _dataset_row(stack, tab.user, "Old drafts", minutes_ago=5, examples=1000, size_bytes=2048)
    in_use = _dataset(stack, tab.user)
    _insert_jobs(stack, tab.user, in_use, queued=2, completed=0)
    page = tab.page
    page.goto(tab.url(DATASETS_PAGE))
    page.get_by_role("link", name="Old drafts", exact=True).click()

    page.get_by_role("button", name="Delete dataset").click()
    dialog = page.get_by_role("dialog", name="Delete this dataset?")
    expect(dialog).to_contain_text("“Old drafts” and its file will be deleted.")
    tab.check_and_screenshot("datasets-delete-dialog")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert [c for c in tab.calls if c.method == "DELETE"] == []

    page.get_by_role("button", name="Delete dataset").click()
    dialog.get_by_role("button", name="Delete dataset").click()

    notice = page.locator("#page-notice")
    expect(notice).to_have_text("Deleted “Old drafts”.")
    expect(notice).to_be_focused()
    expect(page.locator("#detail")).to_be_hidden()
    expect(page.locator("#list-rows tr")).to_have_count(1)
    assert page.url == tab.url(DATASETS_PAGE)
    assert _datasets_of(stack, tab.user) == [f"{tab.user}'s dataset"]

    # Jobs that have not ended use this one: refused, said in words, with the way to those jobs.
    page.get_by_role("link", name=f"{tab.user}'s dataset", exact=True).click()
    page.get_by_role("button", name="Delete dataset").click()
    dialog.get_by_role("button", name="Delete dataset").click()

    refusal = page.locator("#detail-error")
    expect(refusal).to_contain_text(
        "Jobs that have not ended use this dataset, so it cannot be deleted yet. Wait for them to finish,"
        " or cancel them, then delete the dataset."
    )
    expect(refusal).to_be_focused()
    job_ids = [str(job[0]) for job in _jobs_of(stack, tab.user)]
    expect(refusal.get_by_role("link")).to_have_count(2)
    hrefs = [str(refusal.get_by_role("link").nth(n).get_attribute("href")) for n in range(2)]
    assert sorted(hrefs) == sorted(f"/training/jobs/{job_id}" for job_id in job_ids)
    assert _datasets_of(stack, tab.user) == [f"{tab.user}'s dataset"]
    tab.check_and_screenshot("datasets-delete-refused")


def test_a_cancelled_upload_keeps_nothing(tab: Tab, stack: Stack, tmp_path: Path) -> None:
    page = tab.page
    page.goto(tab.url(DATASETS_PAGE))
    page.get_by_label("Choose a file").set_input_files(_chat_file(tmp_path / "slow.jsonl", long_example=True))
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 8 * 1024},
    )
    page.get_by_role("button", name="Upload and validate").click()
    tab.wait_until(lambda: int(page.locator("#upload-progress").get_attribute("value") or 0) > 0)

    page.get_by_role("button", name="Cancel upload").click()

    expect(page.locator("#upload-status")).to_have_text("Upload cancelled: nothing was kept.")
    expect(page.locator("#upload-progress-block")).to_be_hidden()
    expect(page.locator("#detail")).to_be_hidden()
    expect(page.locator("#list-empty")).to_be_visible()
    expect(page.get_by_role("button", name="Upload and validate")).to_be_focused()  # the same file, again
    assert _datasets_of(stack, tab.user) == []  # the dataset made for it, deleted
    assert page.url == tab.url(DATASETS_PAGE)


def test_a_file_larger_than_the_upload_form_takes_is_refused_before_it_is_sent(
    tab: Tab, stack: Stack, tmp_path: Path
) -> None:
    file = tmp_path / "big.jsonl"
    file.write_bytes(b"x" * 3000)
    page = tab.page

    def smaller_form(route: Route) -> None:  # as if the API's limit were 1 KiB
        if route.request.method != "POST":
            route.fallback()
            return
        response = route.fetch()
        body = response.json()
        body["data"]["upload"]["max_bytes"] = 1024
        route.fulfill(response=response, json=body)

    page.route(tab.url("/datasets"), smaller_form)
    sent_to_storage: list[str] = []
    page.on(
        "request", lambda request: sent_to_storage.append(request.url) if stack.sqs in request.url else None
    )
    page.goto(tab.url(DATASETS_PAGE))
    page.get_by_label("Choose a file").set_input_files(file)

    page.get_by_role("button", name="Upload and validate").click()

    error = page.locator("#upload-error")
    too_large = (
        "This file is 2.9 KiB: the largest file you can upload is 1 KiB."
        " Split it into smaller files and upload each as its own dataset."
    )
    expect(error).to_have_text(too_large)
    expect(error).to_be_focused()
    expect(page.locator("#list-empty")).to_be_visible()  # the dataset made for it is gone again
    assert sent_to_storage == []
    assert _datasets_of(stack, tab.user) == []
    # Picked again, the page knows the limit now: said at once, and no upload offered.
    page.get_by_role("button", name="Choose another file").click()
    page.get_by_label("Choose a file").set_input_files(file)
    expect(error).to_have_text(too_large)
    expect(page.get_by_role("button", name="Upload and validate")).to_be_disabled()
    tab.check_and_screenshot("datasets-file-too-large")


# ---- the job page as its worker reports -----------------------------------------------------------


class JobOnStack:
    """A job of the tab's user in the stack's database, moved along by worker reports applied as the
    reports consumer applies them (the page stack runs no queue consumers)."""

    def __init__(
        self, stack: Stack, user: str, status: str = "initializing", *, max_cost: Decimal | None = None
    ) -> None:
        self.user_id = auth_tokens.user_id_for(user)
        dataset_id = _dataset(stack, user, pairs=5000, tokens=1_200_000)
        self.id = uuid.uuid4()
        with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
            conn.execute(
                "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, current_stage,"
                " total_epochs, total_steps, gpu_config, hyperparameters, estimated_total_cost,"
                " pricing_version, max_cost, queued_at, started_at)"
                # Handed to the workers 25 minutes ago: the GPU time its reports claim (1,500 s at most)
                # is possible, and the watchdog's 30 minutes for a worker to start it have not passed.
                " values (%s, %s, %s, 'fast', %s, %s, 1, 625, %s, %s, 2.32, '2025-12-25', %s, now(),"
                " now() - interval '25 minutes')",
                (
                    self.id, self.user_id, dataset_id, status, status,
                    json.dumps({"type": "H100", "count": 1}),
                    json.dumps({"learning_rate": 0.0001, "batch_size": 8, "epochs": 1, "rank": 8}),
                    max_cost,
                ),
            )  # fmt: skip
        self._database = Database(
            DatabaseSettings(DATABASE_URL=url_for_role(stack.owner_database_url, WORKER_ROLE))
        )
        self._sequence = 0
        self._stack = stack

    def report(self, kind: str, **fields: Any) -> None:
        self._sequence += 1
        body = {
            "type": f"training_job.{kind}", "version": 1, "job_id": str(self.id),
            "user_id": str(self.user_id), "sequence": self._sequence, "sent_at": "2026-12-03T12:00:00Z",
        }  # fmt: skip
        assert (
            job_reports.apply_report(self._database, json.dumps(body | fields), RecordedStops()) == "applied"
        )

    def key(self, name: str, *, content: bytes | None = None) -> str:
        """An object key under the job's prefix, as the assignment tells a worker to write; with
        `content`, the object is written there (the stack's local S3), as a worker does first."""
        key = f"users/{self.user_id}/jobs/{self.id}/{name}"
        if content is not None:
            s3 = boto3.client(
                "s3", endpoint_url=self._stack.sqs, region_name="us-east-1",
                aws_access_key_id="local", aws_secret_access_key="local",
            )  # fmt: skip
            s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=content)
        return key

    def progress(self, step: int, loss: float) -> None:
        self.report("progress", step=step, epoch=0, gpu_seconds=step * 2.4, metrics={"train_loss": loss})

    def close(self) -> None:
        self._database.close()


@pytest.fixture
def job_on_stack(tab: Tab, stack: Stack) -> Iterator[JobOnStack]:
    job = JobOnStack(stack, tab.user)
    yield job
    job.close()


def _open_job(tab: Tab, job: JobOnStack) -> Page:
    tab.page.goto(tab.url(f"/training/jobs/{job.id}"))
    expect(tab.page.locator("#job")).to_be_visible()
    return tab.page


def _event_texts(page: Page) -> list[str]:
    return [text.split("\n")[-1] for text in page.locator("#job-events li span").all_inner_texts()]


def test_the_job_page_shows_the_models_id_when_the_catalog_does_not_answer(
    tab: Tab, job_on_stack: JobOnStack
) -> None:
    tab.page.route(
        "**/catalog", lambda route: route.fulfill(status=503, json={"error": "Service unavailable"})
    )

    page = _open_job(tab, job_on_stack)

    expect(page.locator("#job-base-model")).to_have_text("mistral-7b-v0.3")  # the column's default
    expect(page.locator("#job-status")).to_have_text("Initializing")
    tab.errors.remove(
        "Failed to load resource: the server responded with a status of 503 (Service Unavailable)"
    )


def test_the_job_page_follows_a_run_with_progress_cost_chart_and_events_and_stops_at_the_end(
    tab: Tab, job_on_stack: JobOnStack
) -> None:
    job = job_on_stack
    page = _open_job(tab, job)
    expect(page.locator("#job-status")).to_have_text("Initializing")
    expect(page.locator("#job-eta")).to_have_text("Waiting for a GPU")
    expect(page.locator("#loss-chart")).to_contain_text("No losses reported yet")

    job.report("started", worker_id="gpu-7")
    job.progress(125, 2.1)
    job.progress(250, 1.5)  # 600 GPU-seconds of an H100 at $4.20/h

    expect(page.locator("#job-status")).to_have_text("Running", timeout=5000)
    expect(page.locator("#job-progress-text")).to_have_text("40%")
    expect(page.locator("#job-step")).to_have_text("250 of 625")
    expect(page.locator("#job-current-cost")).to_have_text("$0.70")
    expect(page.locator("#job-estimated-cost")).to_have_text("$2.32")
    expect(page.locator("#job-eta")).not_to_have_text(re.compile("^(—|Waiting for a GPU)$"))
    expect(page.locator("#loss-chart path[data-series=train]")).to_have_attribute(
        "d", re.compile(r"^M\S+ L\S+$")
    )
    expect(page.locator("#loss-summary")).to_have_text(
        "Train loss from 2.100 at step 125 to 1.500 at step 250."
    )
    assert _event_texts(page) == [
        "Initializing → Running on GPU worker gpu-7.",
        "20% · step 125 of 625 · $0.35 so far · train loss 2.100",
        "40% · step 250 of 625 · $0.70 so far · train loss 1.500",
    ]
    tab.check_and_screenshot("job-running")

    page.get_by_role("button", name="Cancel job").click()
    dialog = page.get_by_role("dialog", name="Cancel this training job?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("It has cost $0.70 so far.")
    expect(dialog).to_contain_text("about $1.62 of the $2.32 estimate will not be charged")
    tab.check_and_screenshot("job-cancel-dialog")
    dialog.get_by_role("button", name="Keep training").click()
    expect(dialog).to_be_hidden()

    job.report(
        "checkpoint_saved", step=625, epoch=1, gpu_seconds=1500,
        object_key=job.key("checkpoints/step-625/adapter_model.safetensors", content=b"checkpoint 625"),
        metrics={"train_loss": 0.8, "validation_loss": 0.92},
    )  # fmt: skip
    job.report(
        "completed", step=625, epoch=1, gpu_seconds=1500,
        artifact_key=job.key("adapter/adapter_model.safetensors", content=b"the adapter"),
        metrics={"train_loss": 0.8},
    )  # fmt: skip

    expect(page.locator("#job-status")).to_have_text("Completed", timeout=5000)
    expect(page.locator("#job-current-cost-label")).to_have_text("Charged")
    expect(page.locator("#job-current-cost")).to_have_text("$2.25")  # $1.75 of GPU time, $0.50 storage
    expect(page.locator("#cancel-job")).to_be_hidden()
    expect(page.locator("#loss-chart circle.validation-point")).to_have_count(1)
    tab.wait_until(lambda: "Final cost" in " ".join(_event_texts(page)))
    assert _event_texts(page)[-2:] == [
        "Running → Completed.",
        "Final cost $2.25 of $2.32 estimated; $0.07 of the estimate not charged.",
    ]
    # What it produced, offered for download: the adapter and its one checkpoint, saved as files.
    expect(page.locator("#adapter-note")).to_have_text("The trained LoRA adapter is ready to download.")
    expect(page.locator("#checkpoints li span")).to_have_text(
        ["Step 625 · epoch 1 · train loss 0.800 · validation loss 0.920"]
    )
    tab.check_and_screenshot("job-completed")
    for button, saved_as, content in (
        (page.get_by_role("button", name="Download adapter"), "adapter", b"the adapter"),
        (
            page.get_by_role("button", name="Download the checkpoint at step 625"),
            "step-625",
            b"checkpoint 625",
        ),
    ):
        with page.expect_download() as started:
            button.click()
        downloaded = started.value
        # The job's model in the name: an adapter loads only into the model it was trained on.
        assert (
            downloaded.suggested_filename == f"{job.id}-mistral-7b-v0.3-{saved_as}-adapter_model.safetensors"
        )
        assert Path(downloaded.path()).read_bytes() == content
    assert page.url.endswith(f"/training/jobs/{job.id}")  # the page stayed
    job_polls = len(tab.calls_to("GET", f"/jobs/{job.id}"))
    feed_polls = len(tab.calls_to("GET", f"/jobs/{job.id}/events"))
    page.wait_for_timeout(4500)  # two poll intervals
    assert len(tab.calls_to("GET", f"/jobs/{job.id}")) == job_polls  # a finished job is not polled
    assert len(tab.calls_to("GET", f"/jobs/{job.id}/events")) == feed_polls
    assert tab.calls_to("POST", f"/jobs/{job.id}/cancel") == []  # "Keep training" sent nothing
    expect(page.locator("#polling-note")).to_contain_text("Final status")

    page.goto(tab.url("/training/jobs"))  # the list shows how far each job got and what it cost
    expect(page.locator("#jobs-rows td[data-label=Progress]")).to_have_text(["100%"])
    expect(page.locator("#jobs-rows td[data-label=Cost]")).to_have_text(["$2.25"])


def test_cancelling_a_running_job_states_the_charge_and_ends_with_what_it_cost(
    tab: Tab, job_on_stack: JobOnStack
) -> None:
    job = job_on_stack
    job.report("started", worker_id="gpu-7")
    job.progress(250, 1.5)
    page = _open_job(tab, job)
    expect(page.locator("#job-current-cost")).to_have_text("$0.70")

    page.get_by_role("button", name="Cancel job").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel job").click()

    expect(page.locator("#cancel-note")).to_contain_text("Cancellation requested")
    expect(page.locator("#cancel-note")).to_contain_text("Cost so far $0.70")
    expect(page.locator("#cancel-job")).to_be_hidden()
    assert len(tab.calls_to("POST", f"/jobs/{job.id}/cancel")) == 1
    tab.wait_until(lambda: "Cancellation requested: the job stops at its next step." in _event_texts(page))
    expect(page.locator("#job-status")).to_have_text("Running")

    job.report("cancelled", step=260, epoch=0, gpu_seconds=624)  # the worker stopped at its next step

    expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=5000)
    expect(page.locator("#cancel-note")).to_have_text(
        "Cancelled. Charged $0.73; $1.59 of the estimate not charged."
    )
    tab.check_and_screenshot("job-cancelled")


def test_a_failed_job_shows_its_reason_and_is_not_polled(tab: Tab, job_on_stack: JobOnStack) -> None:
    job = job_on_stack
    job.report("started", worker_id="gpu-7")
    job.progress(125, 2.1)
    job.report(
        "failed", step=130, epoch=0, gpu_seconds=312,
        error={"code": "out_of_memory", "message": "CUDA out of memory on GPU 0"},
    )  # fmt: skip

    page = _open_job(tab, job)

    expect(page.locator("#job-status")).to_have_text("Failed")
    expect(page.locator("#job-error")).to_have_text(
        "Training failed: CUDA out of memory on GPU 0 (error code out_of_memory)"
    )
    expect(page.locator("#job-current-cost")).to_have_text("$0.36")
    expect(page.locator("#cancel-job")).to_be_hidden()
    tab.wait_until(lambda: "Failed: CUDA out of memory on GPU 0 (out_of_memory)." in _event_texts(page))
    tab.check_and_screenshot("job-failed")
    page.wait_for_timeout(2500)
    assert len(tab.calls_to("GET", f"/jobs/{job.id}")) == 1


def test_a_job_with_a_budget_stops_at_it_and_is_charged_no_more(tab: Tab, stack: Stack) -> None:
    job = JobOnStack(stack, tab.user, max_cost=Decimal("1.00"))
    try:
        page = _open_job(tab, job)
        expect(page.locator("#job-budget")).to_have_text(
            "Budget $1.00: the job stops when its cost reaches it, and is never charged more."
        )
        job.report("started", worker_id="gpu-7")
        job.progress(250, 1.5)  # $0.70
        expect(page.locator("#job-current-cost")).to_have_text("$0.70", timeout=5000)
        expect(page.locator("#cancel-note")).to_be_hidden()

        job.progress(375, 1.2)  # 900 GPU-seconds: $1.05 of GPU time, past the budget

        expect(page.locator("#job-current-cost")).to_have_text("$1.00", timeout=5000)
        expect(page.locator("#cancel-note")).to_contain_text(
            "as its cost reached its budget: the job stops at its next step. Cost so far $1.00,"
        )
        expect(page.locator("#cancel-job")).to_be_hidden()
        expect(page.locator("#job-eta")).to_have_text("At its next step: it is being stopped")
        tab.wait_until(
            lambda: (
                "Stopping: its cost reached its budget ($1.00); the job stops at its next step."
                in _event_texts(page)
            )
        )
        tab.check_and_screenshot("job-stopping-at-budget")

        job.report("cancelled", step=380, epoch=0, gpu_seconds=912)  # the worker stopped at its next step

        expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=5000)
        expect(page.locator("#job-current-cost")).to_have_text("$1.00")
        expect(page.locator("#cancel-note")).to_have_text(
            "Stopped, as its cost reached its budget. Charged $1.00; $1.32 of the estimate not charged."
        )
        tab.wait_until(lambda: "Final cost" in " ".join(_event_texts(page)))
        assert _event_texts(page)[-2:] == [
            "Running → Cancelled: its cost reached its budget.",
            "Final cost $1.00 of $2.32 estimated; $1.32 of the estimate not charged."
            " Capped at $1.00: $0.06 of GPU time past it not charged.",
        ]
        tab.check_and_screenshot("job-stopped-at-budget")
    finally:
        job.close()


def _deployed_content_security_policy() -> str:
    """The CSP CloudFront adds to every page (template.yaml, WebSecurityHeaders), for a us-east-1 stack."""
    config = load_template(REPO_ROOT / "template.yaml")["Resources"]["WebSecurityHeaders"]["Properties"]
    csp = config["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    template: str = csp["ContentSecurityPolicy"]["Fn::Sub"][0]
    values = {
        "AWS::Region": "us-east-1",
        "AWS::URLSuffix": "amazonaws.com",
        "HostedUi": "https://auth.example",
    }
    return re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], template)


def test_pages_run_under_the_deployed_content_security_policy(browser: Browser, stack: Stack) -> None:
    user = f"user-{uuid.uuid4().hex[:12]}"
    dataset_id = _dataset(stack, user)
    csp = _deployed_content_security_policy()
    context = browser.new_context(viewport=DESKTOP)

    def with_csp(route: Route) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        headers = response.headers | {"content-security-policy": csp}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", with_csp)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{stack.api}/training/signin?next=/training/configure?datasetId={dataset_id}")
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)
    page.get_by_role("button", name="Start Training").click()
    expect(page.locator("#job-status")).to_have_text("Queued")
    page.goto(f"{stack.api}/training/jobs")
    expect(page.locator("#jobs-rows tr")).to_have_count(1)
    page.goto(f"{stack.api}{DATASETS_PAGE}?datasetId={dataset_id}")
    expect(page.locator("#detail-status")).to_have_text("Ready")

    assert violations == []
    # The policy was in force: an inline script, as an injection would add, is refused.
    page.evaluate("document.body.append(Object.assign(document.createElement('script'), {text: '1'}))")
    deadline = time.monotonic() + 5
    while not violations and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any("inline script" in v for v in violations), violations
    context.close()


@pytest.mark.parametrize(
    "path", ["/training/signin?next=/training/jobs", "/training/no-such-page"], ids=["sign-in", "not-found"]
)
def test_pages_seen_before_signing_in_have_no_serious_accessibility_violation(
    browser: Browser, stack: Stack, path: str
) -> None:
    for size in (DESKTOP, PHONE):
        page = browser.new_page(viewport=size)
        page.goto(f"{stack.api}{path}")
        page.wait_for_load_state("networkidle")
        assert accessibility_violations(page) == [], (path, size)
        page.close()


def test_pages_fit_a_375_px_screen(tab: Tab, stack: Stack) -> None:
    dataset_id = _dataset(stack, tab.user)
    _insert_jobs(stack, tab.user, dataset_id, queued=3, completed=0)
    tab.page.set_viewport_size({"width": 375, "height": 740})
    for path in (
        f"/training/configure?datasetId={dataset_id}",
        "/training/jobs",
        f"{DATASETS_PAGE}?datasetId={dataset_id}",
    ):
        tab.page.goto(tab.url(path))
        tab.page.wait_for_load_state("networkidle")
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)


# ---- helpers --------------------------------------------------------------------------------------


def _token(tab: Tab) -> str:
    stored = tab.page.evaluate("sessionStorage.getItem('pipeline.session')")
    return str(json.loads(stored)["token"])


def _js_number(value: float) -> str:
    """How JavaScript writes a number (String(0.00001) is '0.00001', String(1e-6) is '0.000001')."""
    text = repr(value)
    if "e-" in text:
        mantissa, exponent = text.split("e-")
        digits = mantissa.replace(".", "")
        return "0." + "0" * (int(exponent) - 1) + digits.rstrip("0")
    return text


def _set_job(stack: Stack, job_id: uuid.UUID, status: str, *, progress: int) -> None:
    """What job processing does as a job moves along."""
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        conn.execute(
            "update lora_training_jobs set status = %s, progress = %s,"
            " started_at = coalesce(started_at, now()),"
            " completed_at = case when %s = 'completed' then now() end where id = %s",
            (status, progress, status, job_id),
        )


def _insert_jobs(stack: Stack, user: str, dataset_id: uuid.UUID, *, queued: int, completed: int) -> None:
    gpu = json.dumps({"type": "H100", "count": 1})
    hyperparameters = json.dumps({"learning_rate": 0.0001, "batch_size": 8, "epochs": 1, "rank": 8})
    with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
        for status in ["queued"] * queued + ["completed"] * completed:
            conn.execute(
                "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, total_epochs,"
                " total_steps, gpu_config, hyperparameters, estimated_total_cost, pricing_version)"
                " values (%s, %s, %s, 'fast', %s, 1, 625, %s, %s, 1.5, 'test')",
                (uuid.uuid4(), auth_tokens.user_id_for(user), dataset_id, status, gpu, hyperparameters),
            )


# ---- what the local stack serves beside the API ---------------------------------------------------


def test_root_redirects_to_the_jobs_list(stack: Stack) -> None:
    request = urllib.request.Request(f"{stack.api}/", method="GET")  # noqa: S310 - loopback
    opener = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)
    assert (redirect.value.code, redirect.value.headers["Location"]) == (302, "/training/jobs")


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/training/configure", "Configure Training Job"),
        ("/training/jobs", "Training Jobs"),
        (f"/training/jobs/{uuid.uuid4()}", "Training Job"),
        ("/training/signin", "Sign in"),
        (DATASETS_PAGE, "Datasets"),
    ],
)
def test_page_paths_serve_their_html_without_a_token(stack: Stack, path: str, title: str) -> None:
    with urllib.request.urlopen(f"{stack.api}{path}", timeout=10) as response:  # noqa: S310 - loopback
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Cache-Control"] == "no-cache"
        assert f"<title>{title} · PIPELINE</title>" in response.read().decode()


def test_page_paths_do_not_shadow_api_routes(stack: Stack) -> None:
    assert http("GET", f"{stack.api}/jobs").status == 401  # the API's, behind the authorizer
    assert http("GET", f"{stack.api}/training/nothing-here").body == {"message": "Not Found"}


def test_an_unknown_address_shows_the_sites_not_found_page_to_a_browser_and_json_to_a_client(
    browser: Browser, stack: Stack
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    response = page.goto(f"{stack.api}/training/nothing-here")

    assert response is not None
    assert response.status == 404
    expect(page).to_have_title("Page not found · PIPELINE")
    page.get_by_role("link", name="Go to your training jobs").click()
    page.wait_for_url("**/training/*")  # the jobs list, or sign-in on the way to it
    context.close()
    for path in ("/training/nothing-here", "/nope"):  # an API client (no text/html): API Gateway's answer
        assert (http("GET", f"{stack.api}{path}").status, http("GET", f"{stack.api}{path}").body) == (
            404,
            {"message": "Not Found"},
        )


def test_dev_token_endpoint_signs_a_token_the_gateway_accepts(stack: Stack) -> None:
    issued = http("POST", f"{stack.api}/dev/token", body={"user": "carol@example.com"})

    assert issued.status == 200
    assert {name.lower(): value for name, value in issued.headers.items()}["cache-control"] == "no-store"
    assert issued.body["expires_in"] == auth_tokens.DEFAULT_TTL_S
    listed = http("GET", f"{stack.api}/jobs", token=issued.body["access_token"])
    assert listed.status == 200
    assert listed.body["data"]["pagination"]["total"] == 0


@pytest.mark.parametrize("body", [{}, {"user": ""}, {"user": "a b"}, {"user": "x" * 129}, ["demo"]])
def test_dev_token_endpoint_refuses_a_missing_or_odd_user_name(stack: Stack, body: Any) -> None:
    refused = http("POST", f"{stack.api}/dev/token", body=body)

    assert refused.status == 400
    assert "user" in refused.body["error"]


@pytest.mark.parametrize(("method", "path"), [("POST", "/dev/token")])
@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:3000", "127.0.0.1.nip.io"])
def test_dev_endpoints_answer_only_requests_addressed_to_loopback(
    stack: Stack, method: str, path: str, host: str
) -> None:
    # A page on another site that rebinds its own name to 127.0.0.1 still sends its own name as Host.
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{stack.api}{path}",
        data=b'{"user": "mallory"}' if method == "POST" else None,
        method=method,
        headers={"Host": host, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()

    assert status == 403
    assert b"access_token" not in body
    assert http("POST", f"{stack.api}/dev/token", body={"user": "mallory"}).status == 200  # as 127.0.0.1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# ---- deployed sign-in: the Cognito hosted UI, authorization code with PKCE -------------------------


@pytest.fixture
def hosted_ui(stack: Stack) -> Iterator[FakeHostedUi]:
    user = f"hosted-{uuid.uuid4().hex[:12]}"
    started = FakeHostedUi(SigningKey.load_or_create(stack.state_dir), "web-client", stack.api, user).start()
    yield started
    started.stop()


def _deployed_tab(browser: Browser, hosted_ui: FakeHostedUi) -> Page:
    """A tab whose /config.json is what `make publish-web` writes, pointing at the fake hosted UI."""
    context = browser.new_context(viewport=DESKTOP)
    config = {
        "apiUrl": "",
        "datasetsUrl": DATASETS_PAGE,
        "auth": {
            "kind": "cognito",
            "domain": hosted_ui.url,
            "clientId": "web-client",
            "scopes": "openid email",
        },
    }
    context.route("**/config.json", lambda route: route.fulfill(json=config))
    return context.new_page()


def test_deployed_sign_in_goes_through_the_hosted_ui_and_back_to_the_page(
    browser: Browser, stack: Stack, hosted_ui: FakeHostedUi
) -> None:
    dataset_id = _dataset(stack, hosted_ui.user)
    page = _deployed_tab(browser, hosted_ui)
    configure = f"{stack.api}/training/configure?datasetId={dataset_id}"

    page.goto(configure)

    expect(page.locator("#figure-total")).to_have_text(DEFAULT_TOTAL)  # the API accepted the token
    assert page.url == configure
    expect(page.get_by_text(f"Signed in as {hosted_ui.user}")).to_be_visible()
    (token_request,) = hosted_ui.token_requests  # the fake checked the PKCE verifier against the challenge
    assert token_request["redirect_uri"] == f"{stack.api}/training/signin"
    assert len(token_request["code_verifier"]) == 64

    page.get_by_role("button", name="Sign out").click()

    page.wait_for_url(f"{stack.api}/training/signin")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('pipeline.session')") is None
    page.context.close()


def test_a_sign_in_answer_with_a_foreign_state_is_refused(
    browser: Browser, stack: Stack, hosted_ui: FakeHostedUi
) -> None:
    page = _deployed_tab(browser, hosted_ui)

    page.goto(f"{stack.api}/training/signin?code=stolen-code&state=not-ours")

    expect(page.get_by_role("alert")).to_have_text(
        "This sign-in link is stale or was not started here. Please sign in again."
    )
    assert hosted_ui.token_requests == []  # the code was never redeemed
    assert page.evaluate("sessionStorage.getItem('pipeline.session')") is None
    page.context.close()
