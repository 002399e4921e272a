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
