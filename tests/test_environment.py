"""requirements.txt is the one list of pins: environment.yml and Dependabot both use it, and .venv matches it."""

import importlib.metadata
import re

import yaml
from packaging.version import Version

from conftest import ROOT
from notebooks import read_pins

PYTHON = "3.11"


def test_environment_yml_installs_requirements_txt_and_pins_nothing_itself():
    # conda runs pip from the environment file's folder, so the relative path names the
    # requirements.txt beside it. Any pin written here would be a second copy that drifts.
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict)]
    conda_specs = [d for d in deps if not isinstance(d, dict)]
    assert pip_sections == [["-r requirements.txt"]], (
        f"environment.yml's pip: section must be exactly ['-r requirements.txt'], got {pip_sections}"
    )
    assert conda_specs == [f"python={PYTHON}", "pip"], (
        f"environment.yml may name only python={PYTHON} and pip from conda, got {conda_specs}"
    )


def test_one_python_version_everywhere():
    # The Makefile's default interpreter, the conda environment and the workflows agree.
    makefile = re.search(r"^PYTHON \?= python(\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile and makefile.group(1) == PYTHON, "Makefile's PYTHON ?= line names another version"
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        versions = re.findall(r"python-version:\s*\"?([\d.]+)", workflow.read_text())
        assert versions and set(versions) == {PYTHON}, f"{workflow.name} sets up Python {versions}, not {PYTHON}"


def test_dependabot_updates_the_one_list_of_pins():
    # Dependabot's pip updates edit requirements.txt in the folder it is given; environment.yml
    # reads that file, so an update cannot leave the two disagreeing.
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    pip = [u for u in config["updates"] if u["package-ecosystem"] == "pip"]
    assert len(pip) == 1 and pip[0]["directory"] == "/", f"expected one pip entry for '/', got {pip}"
    assert (ROOT / pip[0]["directory"].lstrip("/") / "requirements.txt").is_file()


def test_installed_versions_match_pins():
    wrong = {}
    for name, version in read_pins(ROOT).items():
        installed = importlib.metadata.version(name)
        # `==2.13.0` accepts a local build label such as 2.13.0+cpu, as pip does.
        if Version(installed).public != Version(version).public:
            wrong[name] = (version, installed)
    assert wrong == {}, f"(pinned, installed) differ: rerun `make env` after editing requirements.txt: {wrong}"


def test_core_packages_are_pinned():
    core = {"jupyter-book", "jupytext", "myst-nb", "numpy", "numba", "jax", "jaxlib", "matplotlib", "scipy"}
    assert core <= set(read_pins(ROOT))
