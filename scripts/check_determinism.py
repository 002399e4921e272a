"""Build the site twice from an empty cache and compare every non-timing output.

Usage: make check-determinism   (or .venv/bin/python scripts/check_determinism.py)

Seeded lectures must give the same numbers, shapes and checks on every build;
only timings may change. A code cell whose outputs depend on timing, or on
anything else that varies from run to run (thread scheduling and races, the
allocator's bookkeeping), is marked with the cell tag `timing` and skipped. Everything else is compared: text
outputs, printed streams and glued values (figures are skipped: pictures of
timings change with the timings). Both builds go to temporary folders, so the
project's own _build is left alone. Exits non-zero and lists the cells that
differ, by lecture and cell number.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
TEXT_TYPES = ("text/plain", "text/markdown", "text/latex")


def cold_build(output: Path) -> dict[str, object]:
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(output), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, env={**os.environ, "LECTURES_SITE_BUILD": "1"},
    )
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    cache = get_cache(output / "_build" / ".jupyter_cache")
    return {Path(r.uri).stem: cache.get_cache_bundle(r.pk).nb for r in cache.list_cache_records()}


ADDRESS = re.compile(r"\bat 0x[0-9a-f]+")


def comparable(cell) -> list[str]:
    """The text a cell showed: results, printed output and glued values.

    Printed streams are joined (the kernel may split the same text into
    chunks differently) and object addresses (`at 0x7f...`) are masked.
    """
    texts, streams = [], {}
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + output["text"]
        elif output["output_type"] in ("execute_result", "display_data"):
            texts += [str(output["data"][kind]) for kind in TEXT_TYPES if kind in output["data"]]
    return [ADDRESS.sub("at 0x…", text) for text in [*streams.values(), *texts]]


def first_difference(a, b) -> str:
    lines_a = "\n".join(comparable(a)).splitlines()
    lines_b = "\n".join(comparable(b)).splitlines()
    for line_a, line_b in zip(lines_a, lines_b):
        if line_a != line_b:
            return f"\n      {line_a[:100]!r}\n      {line_b[:100]!r}"
    return f"\n      ({len(lines_a)} lines against {len(lines_b)})"


def differences(first: dict, second: dict) -> list[str]:
    found = []
    for lecture in sorted(set(first) | set(second)):
        if lecture not in first or lecture not in second:
            found.append(f"{lecture}: executed in only one build")
            continue
        cells = zip(first[lecture].cells, second[lecture].cells)
        for number, (a, b) in enumerate(cells):
            if a.cell_type != "code" or "timing" in a.metadata.get("tags", []):
                continue
            if comparable(a) != comparable(b):
                source = a.source.strip().splitlines()[0] if a.source.strip() else ""
                found.append(f"{lecture}, cell {number} ({source[:60]!r}): outputs differ{first_difference(a, b)}")
    return found


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="determinism-") as tmp:
        first = cold_build(Path(tmp) / "first")
        second = cold_build(Path(tmp) / "second")
    found = differences(first, second)
    if found:
        print("Non-timing outputs that differ between two cold builds (tag timing cells `timing`):")
        print("\n".join(f"  {line}" for line in found))
        sys.exit(1)
    print(f"{len(first)} lectures: every non-timing output is identical in two cold builds.")


if __name__ == "__main__":
    main()
