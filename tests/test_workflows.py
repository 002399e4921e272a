"""GitHub workflow and Dependabot files are valid, and the workflows follow the team's rules."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import LECTURE_SECONDS_LIMIT, ROOT, lectures_with_code

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_match_github_schema():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_matches_schema():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.dependabot", str(ROOT / ".github" / "dependabot.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_least_privilege_and_strict(path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}, "top-level permissions must be read-only"
    assert "concurrency" in workflow
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, f"{name}: no timeout"
        for step in job.get("steps", []):
            if "run" in step:
                assert "set -eo pipefail" in step["run"], f"{name}: a shell step without set -eo pipefail"


@pytest.mark.parametrize("name", ["ci.yml", "publish.yml"])
def test_workflows_restore_the_execution_cache_with_its_key(name):
    """Both workflows that build restore _build/.jupyter_cache, the folder that holds scripts/cache_key.py's
    key: a restored cache whose inputs are unchanged is reused, and one whose inputs changed is wiped."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import cache_key

    steps = [
        step
        for job in yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())["jobs"].values()
        for step in job.get("steps", [])
    ]
    cached = [step["with"]["path"] for step in steps if step.get("uses", "").startswith("actions/cache@")]
    build = [
        i for i, step in enumerate(steps) if "make book" in step.get("run", "") or "make test" in step.get("run", "")
    ]
    restore = [i for i, step in enumerate(steps) if step.get("uses", "").startswith("actions/cache@")]
    assert cached == ["_build/.jupyter_cache"], cached
    assert restore and build and restore[0] < build[0], "the cache must be restored before the build"
    key_file = cache_key.key_file(Path("_build"))
    assert key_file.parent == Path(cached[0]), f"{key_file} is not inside the cached folder {cached[0]}"


# How many times a job executes every lecture: the build, and for CI the test suite once more
# (test_notebooks.py runs each downloaded notebook, under the same per-lecture limit).
EXECUTIONS = {"ci.yml": 2, "publish.yml": 1}
# What a job does besides, in minutes, with room: installing the pins, and for CI also Chromium and
# the rest of the test suite (the fresh-venv and restored-cache tests, the browser, the PDF).
OTHER_WORK_MINUTES = {"ci.yml": 35, "publish.yml": 10}


@pytest.mark.parametrize("name", ["ci.yml", "publish.yml"])
def test_the_build_job_has_time_for_every_lecture_at_its_limit(name):
    """A cold build executes every lecture, and CI's tests execute every notebook again; the contract allows
    each LECTURE_SECONDS_LIMIT, so the job's timeout must cover all of them at that limit, and the per-cell execution timeout must not stop a
    cell that the contract still allows."""
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())["jobs"]
    building = [
        job
        for job in jobs.values()
        if any("make book" in s.get("run", "") or "make test" in s.get("run", "") for s in job["steps"])
    ]
    assert len(building) == 1, f"{name}: expected one job that builds"
    worst = EXECUTIONS[name] * len(lectures_with_code()) * LECTURE_SECONDS_LIMIT / 60 + OTHER_WORK_MINUTES[name]
    assert building[0]["timeout-minutes"] >= worst, (
        f"{name}: timeout-minutes {building[0]['timeout-minutes']} < {worst:.0f}, the time a cold build may take "
        f"with {len(lectures_with_code())} lectures at {LECTURE_SECONDS_LIMIT} s each"
    )
    cell_timeout = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"]
    assert LECTURE_SECONDS_LIMIT <= cell_timeout <= building[0]["timeout-minutes"] * 60


def test_the_browser_marker_goes_to_browser_tests_only():
    # `make test-fast` and `make lecture` deselect `browser`: a lecture test with its own fixture named `page`
    # (test_site, test_profiling_scaling) must not be taken for one that drives Chromium.
    files = ["tests/test_browser.py", "tests/test_site.py", "tests/test_profiling_scaling.py"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "browser", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    marked = [line for line in collected.splitlines() if "::" in line]
    assert marked and all(line.startswith("tests/test_browser.py::") for line in marked), collected
