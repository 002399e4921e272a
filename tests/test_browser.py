"""The built site in a real browser (Chromium driven by Playwright), served over loopback HTTP.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it when run as
root), or else the Chromium that `playwright install chromium` downloads (as the
GitHub workflow does). Without either these tests are skipped with the reason,
except in CI (CI=true), where a missing browser is a failure. Screenshots of every page go to
_build/screenshots/ for CI to upload.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import HTML, ROOT, lectures_with_code, serve_directory, toc_files

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots"

from playwright.sync_api import expect, sync_playwright  # noqa: E402


def chromium_path():
    if CHROMIUM.exists():
        return str(CHROMIUM)
    with sync_playwright() as p:
        bundled = Path(p.chromium.executable_path)
    if bundled.exists():
        return str(bundled)
    if os.environ.get("CI") == "true":
        pytest.fail("no Chromium in CI: `make test` installs Debian's when run as root", pytrace=False)
    pytest.skip("no Chromium: apt-get install chromium, or playwright install chromium", allow_module_level=True)


EXECUTABLE = chromium_path()


@pytest.fixture(scope="module")
def base_url(site):
    with serve_directory(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=EXECUTABLE, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


class Watcher:
    """Collects console errors and failed requests; external hosts are only listed (CI is offline)."""

    def __init__(self, page, base_url):
        self.own_host = urlparse(base_url).netloc
        self.errors, self.external = [], []
        page.on("console", self.on_console)
        page.on("requestfailed", lambda r: self.record(r.url, r.failure))
        page.on("response", lambda r: r.status >= 400 and self.record(r.url, r.status))

    def record(self, url, why):
        if urlparse(url).netloc == self.own_host:
            self.errors.append(f"request {url}: {why}")
        else:
            self.external.append(url)

    def on_console(self, message):
        if message.type != "error":
            return
        # The browser logs each failed load as a console error too; those are judged above.
        if message.text.startswith("Failed to load resource"):
            return
        self.errors.append(f"console: {message.text}")


@pytest.mark.parametrize("doc", toc_files())
def test_page_loads_cleanly(page, base_url, doc):
    watcher = Watcher(page, base_url)
    page.goto(f"{base_url}/{doc}.html")
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{doc.replace('/', '_')}.png", full_page=True)
    assert watcher.errors == [], f"{doc}: {watcher.errors}"
    broken_images = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    assert [src for src in broken_images if urlparse(src).netloc == watcher.own_host] == []


def test_search_finds_a_lecture_by_a_word_from_its_body(page, base_url):
    page.goto(f"{base_url}/search.html?q=broadcasting")
    results = page.locator("#search-results")
    expect(results).to_contain_text("found", timeout=10_000)
    expect(results.locator("a[href*='first_measurement']").first).to_be_visible()


def test_solution_dropdown_opens_when_clicked(page, base_url):
    page.goto(f"{base_url}/lectures/first_measurement.html")
    solution = page.locator("div.solution").first
    body = solution.locator("section").first
    expect(body).to_be_hidden()
    solution.locator("button.toggle-button").click()
    expect(body).to_be_visible()


def test_dark_mode_toggles(page, base_url):
    page.goto(f"{base_url}/lectures/intro.html")
    html = page.locator("html")
    themes = set()
    for _ in range(3):  # the switch cycles light -> dark -> auto
        page.locator("button.theme-switch-button").first.click()
        themes.add(html.get_attribute("data-theme"))
    assert {"light", "dark"} <= themes


@pytest.mark.parametrize("doc", lectures_with_code())
def test_download_and_colab_buttons(page, base_url, doc):
    page.goto(f"{base_url}/{doc}.html")
    page.locator(".dropdown-download-buttons button").first.click()
    notebook = page.locator(".dropdown-download-buttons a[href$='.ipynb']")
    expect(notebook).to_be_visible()
    response = page.request.get(page.evaluate("h => new URL(h, location.href).href", notebook.get_attribute("href")))
    assert response.ok and '"cells"' in response.text()
    colab = page.locator("a[href^='https://colab.research.google.com/github/']")
    assert re.search(rf"/blob/[\w.-]+/{re.escape(doc)}\.ipynb$", colab.get_attribute("href"))


def test_mobile_viewport_shows_navigation(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base_url}/lectures/first_measurement.html")
    nav_link = page.locator("a[href$='status.html']").locator("visible=true")
    expect(nav_link).to_have_count(0)  # the sidebar is folded away on a phone
    page.locator("button.primary-toggle").locator("visible=true").first.click()
    expect(nav_link.first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "mobile_navigation.png")
    context.close()
