"""Downloadable and Colab notebooks: every lecture has one, it is plain Jupyter, and it runs.

The notebooks are written by `make book` (sphinx-tojupyter, then _ext/notebooks.py)
into _build/html/_notebooks/, the folder the publish workflow pushes to the
notebooks branch that the Colab links point at.
"""

import os
import re
import subprocess
import sys

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from nbclient import NotebookClient
from packaging.version import Version

import notebooks
from conftest import HTML, ROOT, lectures_with_code, serve_directory

NOTEBOOKS = HTML / "_notebooks"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
REPOSITORY = os.environ.get("GITHUB_REPOSITORY") or CONFIG["notebooks_repository"]
COLAB_LINK = re.compile(
    rf"^https://colab\.research\.google\.com/github/{re.escape(REPOSITORY)}/blob/"
    rf"{re.escape(CONFIG['notebooks_branch'])}/(?P<doc>[\w/]+)\.ipynb$"
)
RAW_MYST = re.compile(
    r"```\{|^:::|\{(glue|ref|doc|numref|eq|cite|download|term)[:}]|^\([\w-]+\)=\s*$|^:(label|class|name|tags):",
    re.M,
)


def notebook(doc):
    return NOTEBOOKS / f"{doc}.ipynb"


def header_links(doc):
    soup = BeautifulSoup((HTML / f"{doc}.html").read_text(), "html.parser")
    return [a["href"] for a in soup.select(".article-header-buttons a[href]")]


@pytest.mark.parametrize("doc", lectures_with_code())
def test_page_offers_notebook_download_that_exists(site, doc):
    downloads = [h for h in header_links(doc) if h.endswith(".ipynb") and "colab" not in h]
    assert len(downloads) == 1, f"{doc}: expected one .ipynb download link, got {downloads}"
    target = ((HTML / doc).parent / downloads[0]).resolve()
    assert target == notebook(doc).resolve(), f"{doc}: download points at {downloads[0]}"
    assert target.exists()
    sources = [h for h in header_links(doc) if h.endswith(".md")]
    assert sources, f"{doc}: no download of the MyST source"


@pytest.mark.parametrize("doc", lectures_with_code())
def test_colab_link_opens_this_lectures_notebook(site, doc):
    colab = [h for h in header_links(doc) if "colab.research.google.com" in h]
    assert len(colab) == 1, f"{doc}: expected one Colab link, got {colab}"
    match = COLAB_LINK.match(colab[0])
    assert match, f"{doc}: Colab link {colab[0]} is not for {REPOSITORY}@{CONFIG['notebooks_branch']}"
    assert match["doc"] == doc
    assert notebook(match["doc"]).exists(), "the Colab link names a notebook the build did not produce"


def test_generated_notebooks_are_exactly_the_lectures(site):
    produced = sorted(p.relative_to(NOTEBOOKS).with_suffix("").as_posix() for p in NOTEBOOKS.rglob("*.ipynb"))
    assert produced == sorted(lectures_with_code())
    assert (NOTEBOOKS / "lectures" / "lecture_utils.py").read_text() == (
        ROOT / "lectures" / "lecture_utils.py"
    ).read_text()


@pytest.mark.parametrize("doc", lectures_with_code())
def test_notebook_is_plain_jupyter(site, doc):
    nb = nbformat.read(notebook(doc), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "code" and "Set-up for running this notebook" in nb.cells[0].source
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            hit = RAW_MYST.search(cell.source)
            assert not hit, f"{doc}: raw MyST {hit.group(0)!r} in markdown:\n{cell.source[:300]}"
            assert "data:image" not in cell.source, f"{doc}: a build-time image is embedded in the text"
            for link in re.findall(r"\]\(([^)]+)\)", cell.source):
                assert link.startswith(("https://", "http://", "#")), f"{doc}: relative link {link} breaks on Colab"


def test_setup_cell_does_nothing_where_everything_is_installed(site, tmp_path):
    """Inside the site's environment the set-up cell installs and downloads nothing."""
    setup = nbformat.read(notebook("lectures/first_measurement"), as_version=4).cells[0].source
    setup = re.sub(r'"https://[^"]+"', '"http://127.0.0.1:9/unreachable.py"', setup)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lectures"), "PIP_NO_INDEX": "1"}
    result = subprocess.run(
        [sys.executable, "-c", setup], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"the set-up cell printed something in the site's own environment:\n{result.stdout}"
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def published_utils():
    """Serve lecture_utils.py over loopback HTTP, as the notebooks branch serves it."""
    with serve_directory(NOTEBOOKS / "lectures") as url:
        yield f"{url}/lecture_utils.py"


@pytest.mark.slow
@pytest.mark.parametrize("doc", lectures_with_code())
def test_notebook_runs_as_downloaded(site, doc, tmp_path, published_utils, monkeypatch):
    """Run the notebook in an empty folder and a fresh kernel, outside the site build."""
    nb = nbformat.read(notebook(doc), as_version=4)
    nb.cells[0].source = re.sub(
        r'"https://raw\.githubusercontent\.com/[^"]+"', f'"{published_utils}"', nb.cells[0].source
    )
    monkeypatch.delenv("LECTURES_SITE_BUILD", raising=False)
    monkeypatch.setenv("PYTHONPATH", "")  # lecture_utils must come from the download
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert (tmp_path / "lecture_utils.py").exists(), "the set-up cell did not fetch lecture_utils"
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    glued = len(re.findall(r"\bglue\([^)]*\bfig", "\n".join(c.source for c in nb.cells if c.cell_type == "code")))
    assert len(shown) >= glued, "figures glued for the site are not shown when the notebook runs"


# The lecture that needs the most recent JAX (shard_map, explicit meshes: MINIMUMS in _ext/notebooks.py),
# all JAX and about 40 s to run, and a JAX older than it needs that installs on Python 3.11.
FRESH_VENV_LECTURE = "lectures/jax_devices"
OLD_JAX = "0.4.38"


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory):
    """One download cache for both fresh venvs, under pytest's temporary folder."""
    return tmp_path_factory.mktemp("pip-cache")


@pytest.mark.slow
@pytest.mark.parametrize("present_jax", [OLD_JAX, None], ids=["old-jax", "no-jax"])
def test_jax_notebook_runs_in_a_fresh_venv(site, tmp_path, published_utils, pip_cache, monkeypatch, present_jax):
    """A fresh venv with an old JAX, or none, and nothing else but a kernel: the set-up cell installs
    the site's JAX, saying so, and the notebook runs to the end from an empty folder."""
    nb = nbformat.read(notebook(FRESH_VENV_LECTURE), as_version=4)
    oldest = notebooks.needed_versions("\n".join(c.source for c in nb.cells if c.cell_type == "code"))["jax"]
    assert Version(OLD_JAX) < Version(oldest), f"{FRESH_VENV_LECTURE} needs jax {oldest}: pick an older OLD_JAX"
    pins = notebooks.read_pins(ROOT)
    venv, folder = tmp_path / "venv", tmp_path / "empty"
    folder.mkdir()
    monkeypatch.setenv("PIP_CACHE_DIR", str(pip_cache))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    present = [f"jax=={present_jax}", f"jaxlib=={present_jax}"] if present_jax else []
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"ipykernel=={pins['ipykernel']}", *present],
        check=True,
    )
    subprocess.run(
        [venv / "bin" / "python", "-m", "ipykernel", "install", "--prefix", venv, "--name", "fresh-venv"],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("JUPYTER_PATH", str(venv / "share" / "jupyter"))
    monkeypatch.delenv("LECTURES_SITE_BUILD", raising=False)
    monkeypatch.setenv("PYTHONPATH", "")  # lecture_utils must come from the download
    nb.cells[0].source = re.sub(
        r'"https://raw\.githubusercontent\.com/[^"]+"', f'"{published_utils}"', nb.cells[0].source
    )
    NotebookClient(nb, timeout=600, kernel_name="fresh-venv", resources={"metadata": {"path": str(folder)}}).execute()
    said = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    jax_pins = f"jax=={pins['jax']} jaxlib=={pins['jaxlib']}"
    expected = (
        f"jax {present_jax} is older than this lecture needs ({oldest}): installing {jax_pins}"
        if present_jax
        else f"jax is missing: installing {jax_pins}"
    )
    assert expected in said.splitlines(), f"the set-up cell said:\n{said}"
    printed = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code" and "jax.__version__" in c.source
        for o in c.outputs
    )
    assert f"JAX {pins['jax']}:" in printed, f"the lecture ran with another JAX:\n{printed}"


def test_setup_cell_installs_what_lecture_utils_imports():
    """Every package lecture_utils imports (at the top or inside a helper) is installed by the set-up cell."""
    import ast

    tree = ast.parse((ROOT / "lectures" / "lecture_utils.py").read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    # jax is imported only where it is installed already (to list accelerators).
    needed = (imported & set(notebooks.IMPORT_TO_DISTS)) - {"jax"}
    assert needed <= set(notebooks.LECTURE_UTILS_IMPORTS), needed - set(notebooks.LECTURE_UTILS_IMPORTS)
