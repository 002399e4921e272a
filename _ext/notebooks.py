"""Sphinx extension: downloadable notebooks and "open in Colab" links for every lecture.

The HTML build (``make book``) adds two things to the header of each lecture
page: a ``.ipynb`` entry in the download menu, and a launch menu with a Colab
link.  The Jupyter build (sphinx-tojupyter, run by ``make book`` right after)
writes plain notebooks to ``_build/jupyter``; then ``python _ext/notebooks.py``
(also run by ``make book``: sphinx-tojupyter ends the process before Sphinx's
``build-finished`` event) turns each lecture's notebook into one that runs
anywhere and writes it to ``_build/html/_notebooks/<docname>.ipynb`` with a
copy of ``lecture_utils.py`` beside it.  The publish workflow pushes that folder to the ``notebooks``
branch of the repository, which is where the Colab links point.

What "runs anywhere" means here:

* a first cell installs (at the site's pins) the packages the lecture imports
  that are missing, and downloads ``lecture_utils.py`` if it is not importable;
  inside the site's own environment it does nothing;
* MyST that sphinx-tojupyter leaves behind is made plain: figures that a code
  cell glues are not repeated as build-time images (running the cell shows
  the reader's own), and links to other pages point at the published site.

Configuration (``_config.yml``, ``sphinx.config``): ``notebooks_repository``
("OWNER/NAME" on GitHub; the ``GITHUB_REPOSITORY`` variable that GitHub
Actions sets takes precedence, so the links are right for the repository the
workflow runs in) and ``notebooks_branch``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

COLAB = "https://colab.research.google.com/github"
NOTEBOOK_DIR = "_notebooks"

# Import name -> distributions to install (at the pins in requirements.txt) when missing.
IMPORT_TO_DISTS = {
    "numpy": ["numpy"],
    "numba": ["numba"],
    "numexpr": ["numexpr"],
    "jax": ["jax", "jaxlib"],
    "matplotlib": ["matplotlib"],
    "pandas": ["pandas"],
    "scipy": ["scipy"],
    "dask": ["dask", "distributed"],
    "distributed": ["dask", "distributed"],
    "dask_jobqueue": ["dask-jobqueue"],
    "joblib": ["joblib"],
    "ipyparallel": ["ipyparallel"],
    "ray": ["ray"],
    "sklearn": ["scikit-learn"],
    "threadpoolctl": ["threadpoolctl"],
    "psutil": ["psutil"],
    "cpuinfo": ["py-cpuinfo"],
    "line_profiler": ["line_profiler"],
    "pyinstrument": ["pyinstrument"],
    # MPICH's wheel brings mpiexec and the library that mpi4py's wheel loads.
    "mpi4py": ["mpi4py", "mpich"],
}
# What lecture_utils itself imports (at the top, or inside the helpers lectures call:
# scipy for compare's intervals, pandas for tables, psutil and cpuinfo for the machine,
# threadpoolctl for numpy_blas).
LECTURE_UTILS_IMPORTS = ["numpy", "matplotlib", "scipy", "pandas", "psutil", "cpuinfo", "threadpoolctl"]


def repository(config) -> str:
    repo = os.environ.get("GITHUB_REPOSITORY") or config["notebooks_repository"]
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
        raise ExtensionError(
            f"notebooks_repository must be 'OWNER/NAME' (set it in _config.yml), got {repo!r}"
        )
    return repo


def site_url(config) -> str:
    owner, name = repository(config).split("/")
    return f"https://{owner}.github.io/{name}/"


def colab_url(config, docname: str) -> str:
    return f"{COLAB}/{repository(config)}/blob/{config['notebooks_branch']}/{docname}.ipynb"


def lecture_utils_url(config) -> str:
    return f"https://raw.githubusercontent.com/{repository(config)}/{config['notebooks_branch']}/lectures/lecture_utils.py"


def is_notebook(srcdir: Path, docname: str) -> bool:
    """Lectures with code are the documents with a jupytext header."""
    return (srcdir / f"{docname}.md").read_text().startswith("---\njupytext:")


# --- HTML: header buttons --------------------------------------------------------


def add_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if app.builder.format != "html" or doctree is None or not is_notebook(Path(app.srcdir), pagename):
        return
    if app.config["lectures_hide_solutions"]:  # the published notebooks hold the solutions
        return
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    pathto = context["pathto"]
    notebook = {
        "type": "link",
        "url": pathto(f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1),
        "text": ".ipynb",
        "tooltip": "Download as a Jupyter notebook",
        "icon": "fas fa-code",
        "label": "download-notebook-button",
    }
    for button in buttons:
        if button.get("label") == "download-buttons":
            button["buttons"].insert(0, notebook)
    buttons.insert(
        0,
        {
            "type": "group",
            "tooltip": "Launch this lecture",
            "icon": "fas fa-rocket",
            "label": "launch-buttons",
            "buttons": [
                {
                    "type": "link",
                    "url": colab_url(app.config, pagename),
                    "text": "Colab",
                    "tooltip": "Open this lecture as a notebook on Google Colab",
                    "icon": pathto("_static/images/logo_colab.png", 1),
                    "label": "colab-button",
                }
            ],
        },
    )


# --- Jupyter: notebooks that run anywhere ------------------------------------------


def read_pins(srcdir: Path) -> dict[str, str]:
    pins = {}
    for line in (srcdir / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    return pins


def imported_modules(nb: dict) -> set[str]:
    found = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            for match in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", "".join(cell["source"]), re.M):
                found.add(match.group(1))
    return found


def setup_cell(nb: dict, pins: dict[str, str], utils_url: str) -> dict:
    needed = {}
    for module in sorted(imported_modules(nb) | set(LECTURE_UTILS_IMPORTS)):
        if module in IMPORT_TO_DISTS:
            needed[module] = [f"{d}=={pins[d]}" for d in IMPORT_TO_DISTS[module]]
    packages = "{\n" + "".join(f"    {m!r}: {pins_!r},\n" for m, pins_ in needed.items()) + "}"
    source = f'''# Set-up for running this notebook outside the lecture site (Colab, a download):
# install the packages it needs that are missing, at the versions the site was built
# with, and fetch the site's helper module. Where everything is present it does nothing.
import importlib.util, subprocess, sys, urllib.request

PACKAGES = {packages}
missing = [pin for module, pins in PACKAGES.items() if importlib.util.find_spec(module) is None for pin in pins]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
if importlib.util.find_spec("lecture_utils") is None:
    urllib.request.urlretrieve("{utils_url}", "lecture_utils.py")'''
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": ["setup"]}, "outputs": [], "source": source}


def about_cell(docname: str, base_url: str) -> dict:
    page = f"{base_url}{docname}.html"
    status = f"{base_url}lectures/status.html"
    text = (
        f"*This notebook is generated from the lecture at [{page}]({page}). Numbers quoted in "
        f"the text were measured when the site was built, on the machine described on its "
        f"[status page]({status}); running the notebook gives your machine's numbers, "
        f"which may differ.*"
    )
    return {"cell_type": "markdown", "metadata": {}, "source": text}


GLUED_IMAGE = re.compile(r"!\[data:image/[^\]]*\]\(data:image/[^)]*\)\s*")
EMPTY_LINK = re.compile(r"\[\]\([^)]*\)")
PAGE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([\w./-]+)\.ipynb(#[\w-]+)?\)")


def make_plain(nb: dict, docname: str, base_url: str) -> dict:
    nb = copy.deepcopy(nb)
    folder = docname.rsplit("/", 1)[0] + "/" if "/" in docname else ""
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            cell["metadata"].pop("hide-output", None)
            continue
        text = "".join(cell["source"])
        # A glued figure is made by the code cell above it; keep its caption only.
        text = GLUED_IMAGE.sub("**Figure.** ", text)
        text = EMPTY_LINK.sub("", text)
        text = PAGE_LINK.sub(lambda m: f"]({base_url}{folder}{m.group(1)}.html{m.group(2) or ''})", text)
        cell["source"] = text
    nb["metadata"] = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def write_notebooks(root: Path, config) -> list[Path]:
    """Post-process sphinx-tojupyter's notebooks in ROOT/_build/jupyter into ROOT/_build/html/_notebooks."""
    source_dir = root / "_build" / "jupyter"
    target = root / "_build" / "html" / NOTEBOOK_DIR
    pins = read_pins(root)
    base_url = site_url(config)
    written = []
    for source in sorted(source_dir.rglob("*.ipynb")):
        docname = source.relative_to(source_dir).with_suffix("").as_posix()
        if not (root / f"{docname}.md").exists() or not is_notebook(root, docname):
            continue
        nb = make_plain(json.loads(source.read_text()), docname, base_url)
        nb["cells"][0:0] = [setup_cell(nb, pins, lecture_utils_url(config)), about_cell(docname, base_url)]
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"cell-{i}"
        nb["nbformat"], nb["nbformat_minor"] = 4, 5
        dest = target / f"{docname}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(dest)
    if not written:
        raise SystemExit(f"no lecture notebooks found in {source_dir}: run the jupyter builder first")
    shutil.copy(root / "lectures" / "lecture_utils.py", target / "lectures" / "lecture_utils.py")
    return written


def main() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "_config.yml").read_text())["sphinx"]["config"]
    written = write_notebooks(root, config)
    print(f"[notebooks] wrote {len(written)} notebooks to _build/html/{NOTEBOOK_DIR}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("notebooks_repository", "", "html")
    app.add_config_value("notebooks_branch", "notebooks", "html")
    # After sphinx-book-theme has built its header buttons (priority 501).
    app.connect("html-page-context", add_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    main()
