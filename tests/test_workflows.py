"""GitHub workflow and Dependabot files are valid, and the workflows follow the team's rules."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_match_github_schema():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_matches_schema():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.dependabot", str(ROOT / ".github" / "dependabot.yml")],
        capture_output=True, text=True,
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

    steps = [step for job in yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())["jobs"].values()
             for step in job.get("steps", [])]
    cached = [step["with"]["path"] for step in steps if step.get("uses", "").startswith("actions/cache@")]
    build = [i for i, step in enumerate(steps) if "make book" in step.get("run", "") or "make test" in step.get("run", "")]
    restore = [i for i, step in enumerate(steps) if step.get("uses", "").startswith("actions/cache@")]
    assert cached == ["_build/.jupyter_cache"], cached
    assert restore and build and restore[0] < build[0], "the cache must be restored before the build"
    key_file = cache_key.key_file(Path("_build"))
    assert key_file.parent == Path(cached[0]), f"{key_file} is not inside the cached folder {cached[0]}"
