"""The built site in a real browser (Chromium driven by Playwright), served over loopback HTTP.

Every request to anything but loopback is blocked, as for a reader offline: a
page that needs an outside resource (a script, a font, MathJax from a CDN) fails.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it when run as
root), or else the Chromium that `playwright install chromium` downloads (as the
GitHub workflow does). Without either these tests are skipped with the reason,
except in CI (CI=true), where a missing browser is a failure. Screenshots of every page go to
_build/screenshots/ for CI to upload. The accessibility test runs axe-core from the
npm package that `make book` installs (package.json).
"""

import base64
import io
import os
import re
from urllib.parse import urlparse

import pytest
from matplotlib.colors import to_rgb
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from site_tools import CHROMIUM_ARGS, NO_CHROMIUM, chromium_path, wait_for_maths

import lecture_utils as lu
from conftest import HTML, ROOT, lectures_with_code, serve_directory, toc_files

SCREENSHOTS = ROOT / "_build" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


EXECUTABLE = chromium_path()
if EXECUTABLE is None:
    if os.environ.get("CI") == "true":
        pytest.fail("no Chromium in CI: `make test` installs Debian's when run as root", pytrace=False)
    pytest.skip(NO_CHROMIUM, allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(site):
    with serve_directory(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=EXECUTABLE, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def offline_context(browser, **options):
    """A browser context that aborts every request to anything but loopback and lists it in `.blocked`."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    context.blocked = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            context.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    return context


@pytest.fixture
def page(browser):
    context = offline_context(browser)
    page = context.new_page()
    yield page
    context.close()


class Watcher:
    """Collects console errors and failed requests to the site itself."""

    def __init__(self, page, base_url):
        self.own_host = urlparse(base_url).netloc
        self.errors = []
        page.on("console", self.on_console)
        page.on("requestfailed", lambda r: self.record(r.url, r.failure))
        page.on("response", lambda r: r.status >= 400 and self.record(r.url, r.status))

    def record(self, url, why):
        if urlparse(url).netloc == self.own_host:  # blocked outside requests are judged apart
            self.errors.append(f"request {url}: {why}")

    def on_console(self, message):
        if message.type != "error":
            return
        # The browser logs each failed load as a console error too; those are judged above.
        if message.text.startswith("Failed to load resource"):
            return
        self.errors.append(f"console: {message.text}")


def untypeset_maths(page) -> list[str]:
    """The formulas on a loaded page that MathJax did not typeset, or typeset as a TeX error."""
    try:
        wait_for_maths(page)
    except RuntimeError as error:
        return [str(error)]
    return page.evaluate("""() => [...document.querySelectorAll("span.math, div.math")]
        .filter(f => !f.querySelector("mjx-container") || f.querySelector("mjx-merror"))
        .map(f => f.textContent.trim().slice(0, 80))""")


@pytest.mark.parametrize("doc", toc_files())
def test_page_loads_cleanly_offline_with_maths_typeset(page, base_url, doc):
    watcher = Watcher(page, base_url)
    page.goto(f"{base_url}/{doc}.html")
    page.wait_for_load_state("networkidle")
    untypeset = untypeset_maths(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{doc.replace('/', '_')}.png", full_page=True)
    assert page.context.blocked == [], (
        f"{doc} needs resources from outside the site (blocked, as offline): {page.context.blocked}"
    )
    assert watcher.errors == [], f"{doc}: {watcher.errors}"
    assert untypeset == [], f"{doc}: {len(untypeset)} formulas not typeset by MathJax: {untypeset[:5]}"
    broken_images = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
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
    context = offline_context(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base_url}/lectures/first_measurement.html")
    nav_link = page.locator("a[href$='status.html']").locator("visible=true")
    expect(nav_link).to_have_count(0)  # the sidebar is folded away on a phone
    page.locator("button.primary-toggle").locator("visible=true").first.click()
    expect(nav_link.first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "mobile_navigation.png")
    context.close()


# --- accessibility -------------------------------------------------------------------

MODES = ["light", "dark"]
BLOCKING = ("critical", "serious")  # axe-core's impacts that must not occur; "moderate" and "minor" are reported


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the loaded page, with its default rules (WCAG 2 A and AA, best practices)."""
    assert AXE.exists(), f"{AXE.relative_to(ROOT)} missing: `make book` installs it (npm ci)"
    page.add_script_tag(path=AXE)
    return page.evaluate("axe.run(document).then(r => r.violations)")


@pytest.mark.slow
def test_every_page_in_light_and_dark_mode_has_no_serious_accessibility_violation(browser, base_url, capsys):
    counts, details = {}, []
    for mode in MODES:
        # The theme follows the reader's colour scheme (default_mode: auto in _config.yml).
        context = offline_context(browser, color_scheme=mode)
        page = context.new_page()
        for doc in toc_files():
            page.goto(f"{base_url}/{doc}.html")
            page.wait_for_load_state("networkidle")
            wait_for_maths(page)
            assert page.locator("html").get_attribute("data-theme") == mode, (
                f"{doc}: the theme did not switch to {mode}"
            )
            violations = axe_violations(page)
            counts[doc, mode] = {
                impact: sum(len(v["nodes"]) for v in violations if v["impact"] == impact)
                for impact in ("critical", "serious", "moderate", "minor")
            }
            for v in violations:
                if v["impact"] in BLOCKING:
                    targets = [" ".join(map(str, n["target"])) for n in v["nodes"]]
                    details.append(
                        f"  {doc} ({mode}) {v['impact']} {v['id']}: {len(targets)} x, e.g. {'; '.join(targets[:3])}"
                    )
        context.close()
    table = "axe-core violations (elements) per page and mode: critical, serious, moderate, minor\n" + "\n".join(
        f"  {doc:<32} {mode:<5} " + " ".join(f"{n:>4}" for n in c.values()) for (doc, mode), c in counts.items()
    )
    with capsys.disabled():
        print("\n" + table)
    assert details == [], (
        f"{len(details)} serious or critical axe-core rules violated:\n" + "\n".join(details) + "\n" + table
    )


# --- the plots' palette against the figures' background, as a reader sees it ----------

GRAPHICS_CONTRAST = 3.0  # WCAG 2.1 success criterion 1.4.11: graphical objects need 3:1 against their neighbours


def relative_luminance(rgb) -> float:
    """WCAG 2's relative luminance of an sRGB colour with components from 0 to 1."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a, b) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == pytest.approx(21.0)
    assert contrast_ratio(to_rgb("#777777"), (1, 1, 1)) == pytest.approx(4.48, abs=0.01)  # WebAIM's checker


def swatches(background: tuple, colors: list[str], size: int = 40) -> bytes:
    """A PNG of one square per colour on `background` (RGBA), a square's width apart."""
    image = Image.new("RGBA", ((2 * len(colors) + 1) * size, 3 * size), background)
    for i, color in enumerate(colors):
        square = Image.new("RGBA", (size, size), tuple(round(255 * c) for c in to_rgb(color)) + (255,))
        image.paste(square, ((2 * i + 1) * size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", MODES)
def test_plot_palette_contrasts_with_the_figure_background_as_shown(browser, base_url, mode):
    """Each colour of lecture_utils.COLORS, drawn on a real figure's own background and shown in
    that figure's place on the page, with the theme's styling of figures in this mode."""
    context = offline_context(browser, color_scheme=mode)
    page = context.new_page()
    figures = [(doc, src) for doc in toc_files() for src in figure_sources(doc)]
    assert figures, "no figure on any page"
    doc, src = figures[0]
    page.goto(f"{base_url}/{doc}.html")
    with Image.open((HTML / doc).parent / src) as figure:
        background = figure.convert("RGBA").getpixel((0, 0))
    size = 40
    data = base64.b64encode(swatches(background, lu.COLORS, size)).decode()
    image = page.locator(f"img[src='{src}']").first.element_handle()  # stays valid when its src changes
    image.evaluate(
        "(img, data) => { img.removeAttribute('width'); img.removeAttribute('height');"
        " img.style.width = 'auto'; img.style.maxWidth = 'none'; img.src = 'data:image/png;base64,' + data;"
        " return img.decode(); }",
        data,
    )
    with Image.open(io.BytesIO(image.screenshot())) as shot:
        shown = shot.convert("RGB")
    context.close()
    offset = (shown.width - (2 * len(lu.COLORS) + 1) * size) // 2  # the image's border or padding, if any
    seen_background = [c / 255 for c in shown.getpixel((offset + size // 2, offset + size // 2))]
    failures = []
    for i, color in enumerate(lu.COLORS):
        seen = [c / 255 for c in shown.getpixel((offset + (2 * i + 1) * size + size // 2, offset + size + size // 2))]
        ratio = contrast_ratio(seen, seen_background)
        if ratio < GRAPHICS_CONTRAST:
            failures.append(f"{color} (shown as {rgb_hex(seen)}): {ratio:.2f}:1")
    assert failures == [], (
        f"{mode} mode, against the figures' background {rgb_hex(seen_background)} as shown: "
        f"{len(failures)} colours of lecture_utils.COLORS below {GRAPHICS_CONTRAST:g}:1: {failures}"
    )


def figure_sources(doc: str) -> list[str]:
    """The src of every figure image on a built page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((HTML / f"{doc}.html").read_text(), "html.parser")
    return [img["src"] for img in soup.select("figure img") if not urlparse(img["src"]).scheme]


def rgb_hex(rgb) -> str:
    return "#" + "".join(f"{round(255 * c):02X}" for c in rgb)
