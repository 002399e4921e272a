"""requirements.txt and environment.yml pin the same packages, and .venv matches them."""

import importlib.metadata
import re

import yaml
from packaging.version import Version

from conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def parse_pins(lines):
    pins = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin (NAME==VERSION): {line!r}"
        name = match.group(1).lower().replace("_", "-")
        assert name not in pins, f"{name} pinned twice"
        pins[name] = match.group(2)
    return pins


def requirements():
    return parse_pins((ROOT / "requirements.txt").read_text().splitlines())


def conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    assert "python=3.11" in env["dependencies"]
    return parse_pins(pip_sections[0])


def test_environment_yml_matches_requirements():
    req, conda = requirements(), conda_pins()
    assert sorted(set(req) ^ set(conda)) == [], "packages in one file but not the other"
    differ = {name: (req[name], conda[name]) for name in req if req[name] != conda[name]}
    assert differ == {}, f"versions differ (requirements.txt, environment.yml): {differ}"


def test_installed_versions_match_pins():
    wrong = {}
    for name, version in requirements().items():
        installed = importlib.metadata.version(name)
        # `==2.13.0` accepts a local build label such as 2.13.0+cpu, as pip does.
        if Version(installed).public != Version(version).public:
            wrong[name] = (version, installed)
    assert wrong == {}, f"(pinned, installed) differ: rerun `make env` after editing requirements.txt: {wrong}"


def test_core_packages_are_pinned():
    core = {"jupyter-book", "jupytext", "myst-nb", "numpy", "numba", "jax", "jaxlib", "matplotlib", "scipy"}
    assert core <= set(requirements())
