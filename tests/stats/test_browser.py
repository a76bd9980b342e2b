"""In a real browser: each role's start page, the explorer, its exports, English; axe on each.

Debian's chromium through Playwright against the live test server. The
screenshots are written to /tmp/inuk-*.png for a person to look at.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from inuk.stats.explorer import last_complete_month
from tests.conftest import PASSWORD, VALLENTUNA_CODE, VASBY_CODE, Cast, watch_policy
from tests.stats.conftest import Book
from tests.stats.pages import load

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    # The reference data comes back after each test by tests/conftest.py's fixture.
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(autouse=True)
def figures(agreements: None) -> None:
    """Both municipalities under agreement, and the figures of the statistics pages' tests."""
    load(Book())


def assert_accessible(page: Page) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def log_in(browser: Browser, live_server, email: str) -> Page:
    page = browser.new_page(
        locale="sv-SE", accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    page.csp_violations = watch_policy(page)  # type: ignore[attr-defined]
    page.goto(f"{live_server.url}/konto/logga-in/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def month() -> str:
    year, number = last_complete_month()
    return f"{year:04d}-{number:02d}"


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("vasby_analyst", "Upplands Väsby {month}"),
        ("vasby_reporter", "Nästa att lämna"),
        ("af_admin", "Leveransuppföljning"),
        ("af_analyst", "Län och grupper {month}"),
    ],
)
def test_each_role_lands_on_its_start_page(
    live_server, browser: Browser, cast: Cast, role: str, heading: str
) -> None:
    page = log_in(browser, live_server, getattr(cast, role).email)
    assert page.url.endswith("/oversikt/")
    assert heading.format(month=month()) in page.inner_text("main")
    assert_accessible(page)
    page.screenshot(path=f"/tmp/inuk-start-{role}.png", full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_the_chart_draws_under_a_policy_that_forbids_inline_scripts_and_eval(
    live_server, browser: Browser, cast: Cast
) -> None:
    page = log_in(browser, live_server, cast.vasby_analyst.email)
    response = page.goto(f"{live_server.url}/statistik/")
    assert response is not None
    header = response.headers["content-security-policy"]
    script_src = [part.split()[1:] for part in header.split(";") if "script-src" in part]
    assert script_src == [["'self'"]]  # no 'unsafe-inline', no 'unsafe-eval'
    page.wait_for_selector("figure.drawn")
    assert page.locator(".chart .main-svg").count() >= 1
    page.hover(".chart .nsewdrag")  # plotly draws its hover labels too
    assert page.csp_violations == []  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_statistics_page_asks_for_no_more_than_one_request_per_chart(
    live_server, browser: Browser, cast: Cast
) -> None:
    page = log_in(browser, live_server, cast.vasby_analyst.email)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/statistik/?indicator=started&by=sex&period_type=quarter")
    page.wait_for_selector("figure.drawn")
    page.wait_for_load_state("networkidle")
    charts = page.locator("figure.drawn").count()
    assert charts >= 1
    beyond = [
        url
        for url in asked[1:]  # the page itself first
        if "/static/" not in url and not url.startswith("data:")
    ]
    assert len(beyond) <= charts, beyond


def test_the_explorer_changes_and_comes_back_from_its_url(
    live_server, browser: Browser, cast: Cast
) -> None:
    page = log_in(browser, live_server, cast.vasby_analyst.email)
    page.goto(f"{live_server.url}/statistik/")
    page.wait_for_selector("figure.drawn")  # plotly drew the chart
    assert page.locator(".chart .main-svg").count() >= 1
    assert_accessible(page)

    page.select_option("#indicator", "ended")
    page.select_option("#by1", "sex")
    page.check("input[name=period_type][value=quarter]")
    page.select_option("#municipalities", [VASBY_CODE, VALLENTUNA_CODE])
    page.click("form.explorer button[type=submit]")
    page.wait_for_selector("figure.drawn")
    url = page.url
    assert "indicator=ended" in url and "by=sex" in url and "period_type=quarter" in url
    assert "geography=0115" in url
    table = page.inner_text("#figures")
    assert "Kvinnor" in table and "Vallentuna" in table and "Median, dagar" in table
    assert_accessible(page)
    page.screenshot(path="/tmp/inuk-explorer.png", full_page=True)

    page.goto(url)  # the bookmark
    page.wait_for_selector("figure.drawn")
    assert page.input_value("#indicator") == "ended"
    assert page.input_value("#by1") == "sex"
    assert page.is_checked("input[name=period_type][value=quarter]")
    assert page.inner_text("#figures") == table
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_the_explorer_s_exports_hold_the_table_s_figures(
    live_server, browser: Browser, cast: Cast
) -> None:
    page = log_in(browser, live_server, cast.vasby_analyst.email)
    page.goto(
        f"{live_server.url}/statistik/?indicator=participants&from={month()}&to={month()}"
        "&geography=0114&geography=SE&by=sex"
    )
    page.wait_for_selector("figure.drawn")
    cells = [c.strip() for c in page.locator("#figures tbody td.num").all_inner_texts()]

    with page.expect_download() as csv_download:
        page.click("a:text('CSV')")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text), delimiter=";") if r.get("geography")]
    by_cell = {(r["sex"], r["geography"]): (r["status"] or r["value"]) for r in rows}
    expected = [by_cell[(s, g)] for s in ("K", "M", "total") for g in (VASBY_CODE, "SE")]
    assert [c.replace("\xa0", "") for c in cells] == expected

    with page.expect_download() as xlsx_download:
        page.click("a:text('Excel')")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet_text = " ".join(
        str(value)
        for sheet in workbook
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    assert "cell" in sheet_text.lower() or "cellnyckel" in sheet_text.lower()

    for kind in ("png", "svg"):
        with page.expect_download() as image:
            page.click(f"button[data-download={kind}]")
        assert image.value.suggested_filename.endswith(f".{kind}")
        assert Path(image.value.path()).stat().st_size > 1000


def test_the_statistics_speak_english_when_asked(live_server, browser: Browser, cast: Cast) -> None:
    page = log_in(browser, live_server, cast.af_analyst.email)
    page.click("form.lang button")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/statistik/?by=age")
    page.wait_for_selector("figure.drawn")
    main = page.inner_text("main")
    assert "Statistics" in main and "Participants" in main and "Age group" in main
    assert_accessible(page)
    page.screenshot(path="/tmp/inuk-explorer-en.png", full_page=True)
    page.goto(f"{live_server.url}/statistik/metod/")
    assert "Definitions and methods" in page.inner_text("main")
    assert_accessible(page)
