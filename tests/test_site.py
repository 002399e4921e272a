"""The built site: one page per toc entry, no errors on any page, no local paths."""

import getpass
import re
import socket
import subprocess

import pytest
from bs4 import BeautifulSoup

from conftest import EXECUTED, HTML, ROOT, toc_files


def page(doc):
    return HTML / f"{doc}.html"


def all_pages():
    return sorted(HTML.rglob("*.html"))


@pytest.mark.parametrize("doc", toc_files())
def test_every_toc_entry_has_a_page(site, doc):
    assert page(doc).exists(), f"no page for {doc} in _build/html"
    soup = BeautifulSoup(page(doc).read_text(), "html.parser")
    assert soup.find("h1"), f"{doc}.html has no title"


def test_index_redirects_to_the_introduction(site):
    assert "url=lectures/intro.html" in (site / "index.html").read_text()


@pytest.mark.parametrize("doc", toc_files())
def test_no_page_shows_errors_or_warnings_from_code(site, doc):
    soup = BeautifulSoup(page(doc).read_text(), "html.parser")
    for css in ["traceback", "error", "stderr"]:
        hits = soup.select(f"div.output.{css}, div.cell_output .{css}")
        assert not hits, f"{doc}: a code cell shows {css} output:\n{hits[0].get_text()[:500]}"
    assert "Traceback (most recent call last)" not in soup.get_text()


def leak_patterns():
    patterns = {re.escape(str(ROOT)), r"/home/[A-Za-z0-9_.-]+", r"/root/", r"/tmp/[A-Za-z0-9_]", r"/Users/[A-Za-z]"}
    user = getpass.getuser()
    if user not in ("root",) and len(user) >= 4:
        patterns.add(rf"\b{re.escape(user)}\b")
    host = socket.gethostname()
    if len(host) >= 6:
        patterns.add(re.escape(host))
    return re.compile("|".join(sorted(patterns)))


def published_files():
    files = [p for p in HTML.rglob("*") if p.suffix in {".html", ".ipynb", ".md", ".txt", ".js"} and p.is_file()]
    files += sorted(EXECUTED.rglob("*.ipynb"))
    return files


def test_no_file_leaks_local_paths_user_or_host(site):
    pattern = leak_patterns()
    leaks = []
    for path in published_files():
        if "_static" in path.parts:  # theme assets, not ours
            continue
        for match in pattern.finditer(path.read_text(errors="replace")):
            leaks.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert not leaks, "local details leaked:\n" + "\n".join(leaks[:20])


def test_every_build_reads_and_executes_the_status_page():
    """The status page describes the build's machine and load, so `make book` must re-read it every time
    (Sphinx re-reads only pages whose files changed; its execution_mode 'force' then executes it)."""
    steps = subprocess.run(["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    touch, build = steps.find("touch lectures/status.md"), steps.find("scripts/site_build.py")
    assert 0 <= touch < build, "make book does not touch lectures/status.md before building"
    header = (ROOT / "lectures" / "status.md").read_text().split("---")[1]
    assert "execution_mode: force" in header


def test_the_status_page_lists_every_committed_record(site):
    # "The table lists every committed record": each record's label and command, or one line saying none.
    import lecture_utils as lu

    text = BeautifulSoup(page("lectures/status").read_text(), "html.parser").get_text(" ")
    records = lu.load_records(ROOT / "lectures" / "data")
    assert ("No records are committed yet" in text) is (not records)
    for record in records:
        assert lu.record_label(record) in text and record["command"] in text
