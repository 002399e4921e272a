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

* a first cell installs, at the site's pins (``requirements.txt``), each
  package the lecture imports that is missing or older than the lecture needs,
  and prints one line per package saying which and why.  What a lecture needs
  is read from its code: ``MINIMUMS`` lists the oldest release that has each
  recent call a lecture makes (``jax.shard_map``, ...), found by running the
  call under successive releases.  Where it changed a module that the running
  kernel had already imported, the cell stops with one line asking to restart
  the runtime and to run the cell again.  A JAX with a GPU or TPU plugin
  (``jax-cuda*``, ``jax-rocm*``, ``libtpu``) is kept, with a printed warning, since
  the site's pin would replace it with the CPU-only jaxlib.  A present ``torch`` is kept (on a
  Colab GPU runtime it is Colab's CUDA build); a missing one is installed as
  the CPU build from PyTorch's own index, never as CUDA wheels.  The cell then
  downloads ``lecture_utils.py`` if it is not importable.  Inside the site's
  own environment it does nothing and prints nothing;
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

from packaging.utils import canonicalize_name
from packaging.version import Version
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

COLAB = "https://colab.research.google.com/github"
NOTEBOOK_DIR = "_notebooks"

# Import name -> distributions to install (at the pins in requirements.txt) when missing or too
# old. The first one provides the import; its version is the one compared with MINIMUMS. torch is
# not here: it has its own rule (TORCH_CPU_INDEX).
IMPORT_TO_DISTS = {
    "numpy": ["numpy"],
    "numba": ["numba"],
    "numexpr": ["numexpr"],
    "jax": ["jax", "jaxlib"],
    "matplotlib": ["matplotlib"],
    "pandas": ["pandas"],
    "scipy": ["scipy"],
    "dask": ["dask", "distributed"],
    "distributed": ["distributed", "dask"],
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

# The oldest release of a distribution that has a call the lectures make: (distribution, version,
# regular expression for the call in a notebook's code or in lecture_utils.py, which every notebook
# uses, what it is). A notebook needs, per distribution, the largest version among the entries its
# code matches; none where it matches none. Each version was found by running the call, as the
# lecture makes it, under successive releases in scratch virtual environments (Python 3.11, December
# 2026): it is the first release where the call worked, and the release before it (named) failed.
# (jax releases tried: 0.4.30, 0.4.35, 0.4.38, 0.5.0 to 0.5.3, 0.6.0 to 0.6.2, 0.7.0, 0.8.0 to 0.8.3,
# 0.9.0 to 0.10.2; parallel_rng's other JAX calls, the threefry_partitionable context and key-reuse
# checking, worked at 0.5.0.) Only jax_devices was also run whole under older releases.
# Never above the site's pin (tested). Where no entry matches, any present version is kept.
# numba needs none: 0.57.0, the first release for Python 3.11, has every numba call the lectures
# make (get_thread_id, parallel_chunksize, threading_layer, numba.np.ufunc.omppool, parfors).
MINIMUMS = [
    ("jax", "0.5.0", r"jax_num_cpu_devices", "jax.config.update('jax_num_cpu_devices', n) (0.4.38: no such option)"),
    ("jax", "0.5.0", r"\.cost_analysis\(\)\[", "Compiled.cost_analysis() as one dict (0.4.38: a list of dicts)"),
    ("jax", "0.5.3", r"\bjax\.typeof\(", "jax.typeof (0.5.2: none)"),
    ("jax", "0.5.3", r"\bAxisType\b", "jax.sharding.AxisType, jax.make_mesh(..., axis_types=...) (0.5.2: none)"),
    ("jax", "0.6.1", r"\bjax\.shard_map\(", "jax.shard_map, with check_vma (0.6.0: only jax.experimental.shard_map)"),
    ("jax", "0.7.0", r"\bjax\.sharding\.reshard\(", "jax.sharding.reshard (0.6.2: none)"),
    (
        "jax",
        "0.8.2",
        r"\bjax\.pmap\.__doc__",
        "pmap's docstring as jax_devices quotes it: pmap built on jit and shard_map (0.8.1: older text)",
    ),
    ("jax", "0.9.0", r"axis_types == \(AxisType\.Explicit", "jax.make_mesh's axes Explicit by default (0.8.3: Auto)"),
    # jax_devices' page-fault cell: XLA's temporaries for the whole 2,400 x 2,400 grid lie above glibc's
    # 32 MiB mmap ceiling (memory_analysis: 43.9 MiB at 0.10.2, 22.0 MiB at 0.9.0 to 0.10.1). Found by
    # running the whole notebook: at 0.9.0, 0.9.2 and 0.10.0 every cell before this one passed.
    ("jax", "0.10.2", r"mmap_max < temp_whole", "XLA's temporaries for jax_devices' grid (0.10.1: half as large)"),
    ("numpy", "1.25.0", r"default_rng\([^()]*\)\.spawn\(", "Generator.spawn (1.24.4: no such method)"),
    ("scipy", "1.12.0", r"\bquantile_test\(", "scipy.stats.quantile_test, lu.compare's interval (1.11.4: none)"),
]
# torch is never installed over a present one (on a Colab GPU runtime it is Colab's CUDA build);
# where missing, its CPU build comes from PyTorch's own index, not PyPI's CUDA wheels.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def repository(config) -> str:
    repo = os.environ.get("GITHUB_REPOSITORY") or config["notebooks_repository"]
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
        raise ExtensionError(f"notebooks_repository must be 'OWNER/NAME' (set it in _config.yml), got {repo!r}")
    return repo


def site_url(config) -> str:
    owner, name = repository(config).split("/")
    return f"https://{owner}.github.io/{name}/"


def colab_url(config, docname: str) -> str:
    return f"{COLAB}/{repository(config)}/blob/{config['notebooks_branch']}/{docname}.ipynb"


def lecture_utils_url(config) -> str:
    return (
        f"https://raw.githubusercontent.com/{repository(config)}/{config['notebooks_branch']}/lectures/lecture_utils.py"
    )


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


PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)")


def parse_pins(lines) -> dict[str, str]:
    """Exact pins (NAME==VERSION, comments and blank lines skipped) by normalized name."""
    pins = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.fullmatch(line)
        if not match:
            raise ValueError(f"not an exact pin (NAME==VERSION): {line!r}")
        name = canonicalize_name(match.group(1))
        if name in pins:
            raise ValueError(f"{name} pinned twice")
        pins[name] = match.group(2)
    return pins


def read_pins(root: Path) -> dict[str, str]:
    return parse_pins((root / "requirements.txt").read_text().splitlines())


def imported_modules(nb: dict) -> set[str]:
    found = set()
    for match in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", code_of(nb), re.M):
        found.add(match.group(1))
    return found


def code_of(nb: dict) -> str:
    return "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code")


def needed_versions(code: str) -> dict[str, str]:
    """The oldest version of each distribution that CODE needs: the largest MINIMUMS entry it matches."""
    needed = {}
    for dist, version, marker, _why in MINIMUMS:
        if re.search(marker, code) and (dist not in needed or Version(version) > Version(needed[dist])):
            needed[dist] = version
    return needed


def setup_cell(nb: dict, pins: dict[str, str], utils_url: str, utils_code: str) -> dict:
    """The first cell: installs what the notebook needs where it is missing or too old (see the module docstring)."""
    minimums = needed_versions(code_of(nb) + "\n" + utils_code)
    modules = imported_modules(nb)
    packages = {}
    for module in sorted(modules | set(LECTURE_UTILS_IMPORTS)):
        if module in IMPORT_TO_DISTS:
            dists = IMPORT_TO_DISTS[module]
            packages[module] = (dists[0], minimums.get(dists[0]), [f"{d}=={pins[canonicalize_name(d)]}" for d in dists])
    listed = "{\n" + "".join(f"    {m!r}: {entry!r},\n" for m, entry in packages.items()) + "}"
    torch = f"torch=={pins['torch']}" if "torch" in modules else None
    source = f'''# Set-up for running this notebook outside the lecture site (Colab, a download): install
# each package it needs that is missing or older than this lecture needs, at the version the
# site was built with, and fetch the site's helper module. Where all is in place it does nothing.
import importlib, importlib.metadata, importlib.util, subprocess, sys, urllib.request
from packaging.utils import canonicalize_name
from packaging.version import Version

# import name: (distribution whose version counts, oldest version this lecture needs, what to install)
PACKAGES = {listed}
# PyTorch is kept where present (on a Colab GPU runtime it is Colab's CUDA build); where missing,
# its CPU build is installed from PyTorch's own index, never the CUDA wheels.
TORCH = {torch!r}

# A JAX with a GPU or TPU plugin is the runtime's accelerator build: it is kept, like PyTorch,
# since the site's pin would bring the CPU-only jaxlib.
ACCELERATOR_JAX = ("jax-cuda", "jax-rocm", "libtpu")


def installed():
    """Version of each distribution, the one that imports find where several are on the path."""
    found = {{}}
    for dist in importlib.metadata.distributions():
        found.setdefault(canonicalize_name(dist.metadata["Name"] or ""), dist.version)
    return found


install = []
for module, (dist, oldest, pins) in PACKAGES.items():
    if importlib.util.find_spec(module) is None:
        print(f"{{module}} is missing: installing {{' '.join(pins)}}")
        install += pins
    elif oldest and Version(present := importlib.metadata.version(dist)) < Version(oldest):
        if dist == "jax" and any(name.startswith(ACCELERATOR_JAX) for name in installed()):
            print(f"jax {{present}} is older than this lecture was checked with ({{oldest}}), but it is this "
                  "runtime's GPU or TPU build: kept, so a check in the lecture may fail")
            continue
        print(f"{{dist}} {{present}} is older than this lecture needs ({{oldest}}): installing {{' '.join(pins)}}")
        install += pins
torch_missing = TORCH and importlib.util.find_spec("torch") is None
if torch_missing:
    print(f"torch is missing: installing its CPU build, {{TORCH}}, from {TORCH_CPU_INDEX} "
          "(for a GPU, install PyTorch for it instead: https://pytorch.org/get-started/locally/)")

if install or torch_missing:
    before = installed()
    if install:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *dict.fromkeys(install)], check=True)
    if torch_missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", TORCH,
                        "--index-url", "{TORCH_CPU_INDEX}"], check=True)
    importlib.invalidate_caches()
    changed = {{name for name, version in installed().items() if before.get(name) not in (None, version)}}
    stale = sorted(m for m, ds in importlib.metadata.packages_distributions().items()
                   if m in sys.modules and changed & {{canonicalize_name(d) for d in ds}})
    if stale:
        raise RuntimeError("Restart the runtime (on Colab: Runtime > Restart session), then run this cell again: "
                           f"it changed {{', '.join(stale)}}, which this kernel had imported already")
if importlib.util.find_spec("lecture_utils") is None:
    urllib.request.urlretrieve("{utils_url}", "lecture_utils.py")'''
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": ["setup"]},
        "outputs": [],
        "source": source,
    }


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
    utils_code = (root / "lectures" / "lecture_utils.py").read_text()
    base_url = site_url(config)
    written = []
    for source in sorted(source_dir.rglob("*.ipynb")):
        docname = source.relative_to(source_dir).with_suffix("").as_posix()
        if not (root / f"{docname}.md").exists() or not is_notebook(root, docname):
            continue
        nb = make_plain(json.loads(source.read_text()), docname, base_url)
        setup = setup_cell(nb, pins, lecture_utils_url(config), utils_code)
        nb["cells"][0:0] = [setup, about_cell(docname, base_url)]
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
