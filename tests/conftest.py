"""Shared paths and fixtures. `make test` builds the site before pytest runs."""

import ast
import contextlib
import functools
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"

sys.path.insert(0, str(ROOT / "lectures"))


def toc_files() -> list[str]:
    """Every document listed in _toc.yml, e.g. 'lectures/intro'."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("chapters"))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def lectures_with_code() -> list[str]:
    """Documents in the toc that are notebooks (have a jupytext header)."""
    return [f for f in toc_files() if (ROOT / f"{f}.md").read_text().startswith("---\njupytext:")]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory: Path):
    """Serve a folder over HTTP on loopback; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("no built site in _build/html: run `make test`, which builds it first")
    return HTML


@pytest.fixture(scope="session")
def glued(site):
    """glued(lecture) -> {name: value} of everything the executed lecture glued.

    Numbers come back as Python numbers, strings as strings, figures as their
    text summary ('<Figure size ...>').
    """

    def load(lecture: str) -> dict:
        path = EXECUTED / "lectures" / f"{lecture}.glue.json"
        if not path.exists():
            pytest.fail(f"{path.relative_to(ROOT)} missing: lecture {lecture!r} did not execute or glued nothing")
        values = {}
        for name, output in json.loads(path.read_text()).items():
            text = output["data"]["text/plain"]
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
        return values

    return load


@pytest.fixture(scope="session")
def executed_notebook(site):
    """executed_notebook(lecture) -> the executed notebook (with outputs) as a dict.

    Read from the execution cache: when a lecture comes from the cache, myst-nb
    writes its copy in _build/jupyter_execute without outputs.
    """
    from jupyter_cache import get_cache

    cache = get_cache(ROOT / "_build" / ".jupyter_cache")

    def load(lecture: str) -> dict:
        source = str(ROOT / "lectures" / f"{lecture}.md")
        records = [r for r in cache.list_cache_records() if r.uri == source]
        if not records:
            pytest.fail(f"lecture {lecture!r} is not in the execution cache: it did not execute")
        newest = max(records, key=lambda r: r.created)
        return json.loads(json.dumps(cache.get_cache_bundle(newest.pk).nb))

    return load
