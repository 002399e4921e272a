"""scripts/cache_key.py keeps the execution cache only while its inputs and the machine are unchanged."""

import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import cache_key  # noqa: E402


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A stand-in project with one input file, a build folder and a settable machine fingerprint."""
    (tmp_path / "helpers.py").write_text("x = 1\n")
    monkeypatch.setattr(cache_key, "ROOT", tmp_path)
    monkeypatch.setattr(cache_key, "INPUTS", ["helpers.py"])
    machine = {"fingerprint": "machine-a"}
    monkeypatch.setattr(cache_key.lecture_utils, "machine_fingerprint", lambda: machine["fingerprint"])
    build = tmp_path / "_build"

    def run():
        monkeypatch.setattr(sys, "argv", ["cache_key.py", str(build)])
        cache_key.main()

    def executed_before():
        """Stands in for executed results: a file in the cache that survives only if the build is kept."""
        return (build / ".jupyter_cache" / "executed.db").exists()

    run()
    (build / ".jupyter_cache" / "executed.db").write_text("results")
    return tmp_path, machine, run, executed_before


def test_unchanged_inputs_keep_the_cache(project):
    _, _, run, executed_before = project
    run()
    assert executed_before()


def test_a_touched_but_unchanged_file_keeps_the_cache(project):
    root, _, run, executed_before = project
    (root / "helpers.py").write_text("x = 1\n")  # new file time, same content (a fresh checkout)
    run()
    assert executed_before()


def test_a_changed_helper_starts_a_clean_build(project, capsys):
    root, _, run, executed_before = project
    (root / "helpers.py").write_text("x = 2\n")
    run()
    assert not executed_before()
    assert "executes again" in capsys.readouterr().out


def test_another_machine_starts_a_clean_build(project):
    _, machine, run, executed_before = project
    machine["fingerprint"] = "machine-b"
    run()
    assert not executed_before()


def test_a_build_without_a_key_is_not_trusted(project):
    root, _, run, executed_before = project
    (root / "_build" / ".jupyter_cache" / "inputs.key").unlink()
    run()
    assert not executed_before()


def test_the_real_inputs_exist():
    assert all(path.exists() for path in cache_key.input_files()), cache_key.input_files()


@pytest.mark.slow
def test_a_fresh_checkout_with_the_restored_cache_executes_nothing(site, tmp_path):
    """What CI does: a new checkout in another folder, the execution cache restored beside it, unchanged
    inputs. The key is kept and the real build takes every lecture from the cache; only the status page,
    which describes the build's own machine and so executes every time, runs."""
    import shutil
    import subprocess

    import site_build

    checkout = tmp_path / "checkout"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "_build" / ".jupyter_cache", checkout / "_build" / ".jupyter_cache")

    keep = subprocess.run(
        [sys.executable, "scripts/cache_key.py", "_build"], cwd=checkout, capture_output=True, text=True, check=True
    )
    assert "executes again" not in keep.stdout, keep.stdout
    result = site_build.run(checkout, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    executed = sorted(set(re.findall(r"(\w+)\.md: Executing notebook", result.stdout + result.stderr)))
    assert executed == ["status"], f"executed again instead of taken from the restored cache: {executed}"
