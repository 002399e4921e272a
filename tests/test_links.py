"""Link integrity of the built site, checked by LinkChecker (internal links and anchors)."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import serve_directory

LINKCHECKER = Path(sys.executable).with_name("linkchecker")
CONFIG = Path(__file__).with_name("linkcheckerrc")


def check_links(folder: Path) -> tuple[list[dict], list[str]]:
    """Serve `folder` on loopback and run LinkChecker from its index.html.

    Returns (broken internal links, external URLs seen). Served over HTTP rather
    than file:// because LinkChecker, run as root, drops to a user that may not
    read the files.
    """
    with serve_directory(folder) as url:
        result = subprocess.run(
            [str(LINKCHECKER), "-f", str(CONFIG), "-o", "csv", "-v", "--no-robots", f"{url}/index.html"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    rows = list(
        csv.DictReader(
            io.StringIO("".join(line + "\n" for line in result.stdout.splitlines() if not line.startswith("#"))),
            delimiter=";",
        )
    )
    assert rows, f"LinkChecker checked nothing:\n{result.stderr[-2000:]}"
    internal = [r for r in rows if r["url"].startswith(url)]
    external = sorted({r["url"] for r in rows if not r["url"].startswith(url)})
    # LinkChecker reports a missing #anchor as a warning on a valid link.
    broken = [r for r in internal if r["valid"] != "True" or "Anchor" in r["warningstring"]]
    return broken, external


def test_checker_reports_broken_links_and_anchors(tmp_path):
    (tmp_path / "index.html").write_text(
        '<html><body><a href="missing.html">a</a> <a href="other.html#nowhere">b</a> <a href="other.html">c</a></body></html>'
    )
    (tmp_path / "other.html").write_text('<html><body><h1 id="here">other</h1></body></html>')
    broken, _ = check_links(tmp_path)
    assert sorted(r["urlname"] for r in broken) == ["missing.html", "other.html#nowhere"]


@pytest.mark.slow
def test_site_has_no_broken_internal_links(site):
    broken, external = check_links(site)
    print(f"{len(external)} external links, not checked (no network in CI):", *external, sep="\n  ")
    assert not broken, "broken links:\n" + "\n".join(
        f"{r['urlname']} (in {r['parentname']}): {r['result']} {r['warningstring']}" for r in broken
    )
