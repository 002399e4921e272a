"""The notebooks' set-up cell (_ext/notebooks.py), run in a subprocess against a fake pip.

No build and no network: the cell is generated from a small notebook, and pip is replaced by a
stand-in that "installs" NAME==VERSION by writing NAME-VERSION.dist-info into a folder first on
sys.path, so importlib.metadata sees the new version just as after a real install.
"""

import json
import re
import subprocess
import sys

import pytest
from packaging.version import Version

import notebooks
from conftest import ROOT
from notebooks import MINIMUMS, TORCH_CPU_INDEX, needed_versions, parse_pins, read_pins, setup_cell

PINS = read_pins(ROOT)
UTILS_CODE = (ROOT / "lectures" / "lecture_utils.py").read_text()

# Runs before the cell: SITE (first on sys.path) holds fake distributions; pip is replaced.
PRELUDE = """
import json, pathlib, shutil, subprocess, sys
SITE = pathlib.Path(sys.argv[1])
sys.path[:0] = [str(SITE), sys.argv[2]]          # fake distributions, then the lectures folder
if sys.argv[3] == "bare":                         # nothing installed but the standard library
    import packaging.utils, packaging.version     # (the cell's own imports, from a Jupyter kernel)
    sys.path[:] = [p for p in sys.path if "-packages" not in p]

def fake_distribution(name, version, module=None):
    for old in SITE.glob(f"{name}-*.dist-info"):
        shutil.rmtree(old)
    info = SITE / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n")
    if module:
        (info / "top_level.txt").write_text(module + "\\n")
        (SITE / module).mkdir(exist_ok=True)
        (SITE / module / "__init__.py").write_text(f"__version__ = {version!r}\\n")

def fake_pip(command, **kwargs):
    print("PIP", json.dumps(command[3:]))
    for requirement in command[4:]:
        if "==" in requirement:
            name, version = requirement.split("==")
            fake_distribution(name, version, name if (SITE / name).exists() else None)
    return subprocess.CompletedProcess(command, 0)

subprocess.run = fake_pip
"""


def cell_for(code: str) -> str:
    nb = {"cells": [{"cell_type": "code", "source": code}]}
    return setup_cell(nb, PINS, "http://127.0.0.1:9/unreachable.py", UTILS_CODE)["source"]


def run_cell(tmp_path, cell: str, before: str = "", bare: bool = False) -> subprocess.CompletedProcess:
    site = tmp_path / "site"
    site.mkdir()
    program = PRELUDE + before + "\n" + cell
    return subprocess.run(
        [sys.executable, "-c", program, str(site), str(ROOT / "lectures"), "bare" if bare else "full"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def pip_calls(result) -> list[list[str]]:
    return [json.loads(line[4:]) for line in result.stdout.splitlines() if line.startswith("PIP ")]


def test_minimums_are_never_above_the_sites_pins():
    for dist, version, _marker, why in MINIMUMS:
        assert dist in PINS, f"MINIMUMS names {dist}, which requirements.txt does not pin"
        assert Version(version) <= Version(PINS[dist]), (
            f"{dist}: minimum {version} ({why}) is above the pin {PINS[dist]}"
        )


def test_every_minimum_is_for_a_call_some_lecture_makes():
    code = UTILS_CODE + "".join(path.read_text() for path in sorted((ROOT / "lectures").glob("*.md")))
    unused = [(dist, version, marker) for dist, version, marker, _why in MINIMUMS if not re.search(marker, code)]
    assert not unused, f"no lecture makes these calls any more; remove their MINIMUMS entries: {unused}"


def test_a_lecture_needs_the_largest_minimum_its_code_matches(monkeypatch):
    table = [("a", "1.0", r"\bold_call\(", ""), ("a", "2.0", r"\bnew_call\(", ""), ("b", "0.5", r"\bb_call\(", "")]
    monkeypatch.setattr(notebooks, "MINIMUMS", table)
    assert notebooks.needed_versions("new_call(x)\nold_call(y)") == {"a": "2.0"}
    assert notebooks.needed_versions("old_call(y)\nb_call()") == {"a": "1.0", "b": "0.5"}
    assert notebooks.needed_versions("renew_call(x)") == {}


def test_an_old_module_that_was_imported_asks_for_a_restart(tmp_path):
    oldest = needed_versions("jax.shard_map(g, mesh=m)")["jax"]
    cell = cell_for("import jax\nf = jax.shard_map(g, mesh=m)")
    result = run_cell(tmp_path, cell, before="fake_distribution('jax', '0.4.1', 'jax'); import jax")
    assert pip_calls(result) == [["install", "--quiet", f"jax=={PINS['jax']}", f"jaxlib=={PINS['jaxlib']}"]], (
        result.stdout
    )
    assert (
        f"jax 0.4.1 is older than this lecture needs ({oldest}): installing jax=={PINS['jax']} jaxlib=={PINS['jaxlib']}"
        in result.stdout.splitlines()
    ), result.stdout
    assert result.returncode != 0, "the cell went on with an old jax imported"
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "RuntimeError: Restart the runtime (on Colab: Runtime > Restart session), then run this cell "
        "again: it changed jax, which this kernel had imported already"
    ), result.stderr


def test_an_old_module_not_yet_imported_is_upgraded_without_a_restart(tmp_path):
    result = run_cell(
        tmp_path,
        cell_for("import jax\nf = jax.shard_map(g, mesh=m)"),
        before="fake_distribution('jax', '0.4.1', 'jax')",
    )
    assert result.returncode == 0, result.stderr
    assert len(pip_calls(result)) == 1 and "is older than this lecture needs" in result.stdout


def test_an_old_accelerator_jax_is_kept_with_a_warning(tmp_path):
    result = run_cell(
        tmp_path,
        cell_for("import jax\nf = jax.shard_map(g, mesh=m)"),
        before="fake_distribution('jax', '0.4.1', 'jax'); fake_distribution('jax-cuda12-plugin', '0.4.1')",
    )
    assert result.returncode == 0, result.stderr
    assert pip_calls(result) == [], "a GPU runtime's JAX must not be replaced by the CPU-only pin"
    assert "runtime's GPU or TPU build: kept" in result.stdout


def test_a_lecture_without_recent_calls_keeps_an_old_module(tmp_path):
    result = run_cell(tmp_path, cell_for("import jax\njax.jit(f)"), before="fake_distribution('jax', '0.4.1', 'jax')")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and pip_calls(result) == []


def test_missing_torch_is_installed_as_the_cpu_build_and_present_torch_is_kept(tmp_path):
    cell = cell_for("import numpy as np\nimport torch")
    (tmp_path / "bare").mkdir()
    bare = run_cell(tmp_path / "bare", cell, bare=True)
    assert bare.returncode == 0, bare.stderr
    torch_calls = [c for c in pip_calls(bare) if any(a.startswith("torch") for a in c)]
    assert torch_calls == [["install", "--quiet", f"torch=={PINS['torch']}", "--index-url", TORCH_CPU_INDEX]], (
        bare.stdout
    )
    assert "numpy is missing: installing numpy==" in bare.stdout
    assert re.search(r"^torch is missing: installing its CPU build", bare.stdout, re.M), bare.stdout

    (tmp_path / "full").mkdir()
    full = run_cell(tmp_path / "full", cell, before="fake_distribution('torch', '1.0.0', 'torch')")
    assert full.returncode == 0, full.stderr
    assert pip_calls(full) == [] and full.stdout == "", "a present torch, however old, must be left alone"


@pytest.mark.parametrize("bad", ["numpy>=2", "numpy == 2.4.6", "numpy", "numpy==2.4.6; python_version < '3.12'"])
def test_a_pin_that_is_not_exact_is_refused_with_its_line(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_pins(["# a comment", "", bad])
