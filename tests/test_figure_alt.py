"""A figure's alt text, from lu.glue(..., alt=...) to the <img> of the page (_ext/figure_alt.py).

lu.glue keeps the text in the glued output's metadata; the site's {glue:figure}
takes it from there. Each test glues a real figure through a real IPython
formatter, then builds a one-page site from the output with Sphinx, myst-nb and
the extension (no kernel: the page's notebook is written already executed).
"""

import subprocess
import sys

import matplotlib
import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import ROOT

matplotlib.use("Agg")

import lecture_utils as lu  # noqa: E402

ALT = "A rising line: the test's figure."
CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / "_ext")!r})
extensions = ["myst_nb", "figure_alt"]
nb_execution_mode = "off"
"""


@pytest.fixture
def glued_output(monkeypatch, tmp_path):
    """The output that lu.glue("fig-line", fig, alt=ALT) writes in the site's build, as a notebook output."""
    import matplotlib.pyplot as plt
    import myst_nb.ext.glue
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    select_figure_formats(InteractiveShell.instance(), {"png"})  # as the notebook's kernel formats figures
    shown = []
    monkeypatch.setenv(lu.SITE_BUILD_ENV, "1")
    monkeypatch.setattr(myst_nb.ext.glue, "ipy_display", lambda data, raw, metadata: shown.append((data, metadata)))
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    lu.glue("fig-line", fig, alt=f"  {ALT}  ")
    plt.close(fig)
    InteractiveShell.clear_instance()
    [(data, metadata)] = shown
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


def build_page(tmp_path, output, directive: str):
    """Build a page holding `output` and the MyST `directive`; (return code, Sphinx's messages, the page's HTML)."""
    src, out = tmp_path / "src", tmp_path / "html"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    code = nbformat.v4.new_code_cell("lu.glue('fig-line', fig, alt=...)", execution_count=1, outputs=[output])
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Page"), code, nbformat.v4.new_markdown_cell(directive)]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, src / "index.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    page = out / "index.html"
    return result.returncode, result.stderr, page.read_text() if page.exists() else ""


def test_glue_keeps_a_figures_alt_text_in_the_output_metadata(glued_output):
    assert set(glued_output["data"]) == {
        "application/papermill.record/image/png",
        "application/papermill.record/text/plain",
    }
    assert glued_output["data"]["application/papermill.record/text/plain"].startswith("<Figure size")
    assert glued_output["metadata"]["scrapbook"]["name"] == "fig-line"
    assert glued_output["metadata"].get("image/png", {}).get("alt") == ALT, (
        f"no alt text under image/png in the glued output's metadata: {glued_output['metadata']}"
    )


def test_glue_figure_puts_the_glued_alt_text_on_the_img(tmp_path, glued_output):
    returncode, messages, html = build_page(tmp_path, glued_output, "```{glue:figure} fig-line\n\nA caption.\n```")
    assert returncode == 0, messages
    [img] = BeautifulSoup(html, "html.parser").find_all("img")
    assert img.get("alt") == ALT, f"the page's <img> has alt {img.get('alt')!r}, not the glued text"


def test_alt_text_typed_in_the_directive_as_well_fails_the_build(tmp_path, glued_output):
    returncode, messages, _ = build_page(
        tmp_path, glued_output, "```{glue:figure} fig-line\n:alt: Typed again.\n\nA caption.\n```"
    )
    assert returncode != 0, "the build passed with alt text given in the directive and in lu.glue"
    assert "{glue:figure} fig-line: alt text given twice, in the directive's :alt: and in lu.glue" in messages
