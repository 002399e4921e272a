"""Build the site twice from an empty cache; compare every non-timing output and every glued sentence.

Usage: make check-determinism   (or .venv/bin/python scripts/check_determinism.py)
       .venv/bin/python scripts/check_determinism.py --builds DIR DIR   (compare two finished builds)

Two checks:

1. Outputs. Seeded lectures must give the same numbers, shapes and checks on
   every build; only timings may change. A code cell whose outputs depend on
   timing, or on anything else that varies from run to run (thread scheduling
   and races, the allocator's bookkeeping), is marked with the cell tag
   `timing` and skipped. Everything else is compared: text outputs, printed
   streams and glued values (figures are skipped: pictures of timings change
   with the timings).
2. Verdicts. The words of every glued sentence, timing cells included, are
   compared with their numbers masked ("ran 2.1 times as fast" and "ran 1.9
   times as fast" agree; "faster" and "slower" do not). A sentence whose words
   change between two cold builds is a verdict that noise decided.

Both builds go to temporary folders, so the project's own _build is left
alone. Exits non-zero and lists what differs, by lecture and cell or glue name,
with the number of verdict flips.
"""

import argparse
import ast
import re
import sys
import tempfile
from pathlib import Path

from jupyter_cache import get_cache

import site_build

TEXT_TYPES = ("text/plain", "text/markdown", "text/latex")
# myst-nb's glue(..., display=False) stores the value under this prefix.
GLUE_PREFIX = "application/papermill.record/"


def read_build(output: Path) -> dict[str, object]:
    """The executed notebooks of a finished build, by lecture name, from its execution cache."""
    cache = get_cache(output / "_build" / ".jupyter_cache")
    return {Path(r.uri).stem: cache.get_cache_bundle(r.pk).nb for r in cache.list_cache_records()}


def cold_build(output: Path) -> dict[str, object]:
    result = site_build.run(site_build.ROOT, "--path-output", str(output), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return read_build(output)


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
            for kind in TEXT_TYPES:
                for key in (kind, GLUE_PREFIX + kind):
                    if key in output["data"]:
                        texts.append(str(output["data"][key]))
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


NUMBER = re.compile(r"[-+−]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?")


def glued_sentences(nb) -> dict[str, str]:
    """{glue name: text} of every glued string that contains a word, timing cells included."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            data = output.get("data", {})
            text = data.get(GLUE_PREFIX + "text/plain", data.get("text/plain"))
            if name is None or not isinstance(text, str):
                continue
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, str) and re.search(r"[A-Za-z]{3,}", value):
                found[name] = value
    return found


def masked(text: str) -> str:
    """The words of a sentence, with every number replaced by '#'."""
    return NUMBER.sub("#", text)


def verdict_flips(first: dict, second: dict) -> list[str]:
    """Glued sentences whose words (numbers masked) differ between two builds."""
    found = []
    for lecture in sorted(set(first) & set(second)):
        a, b = glued_sentences(first[lecture]), glued_sentences(second[lecture])
        for name in sorted(set(a) & set(b)):
            if masked(a[name]) != masked(b[name]):
                found.append(f"{lecture}, {name}:\n      {a[name][:160]!r}\n      {b[name][:160]!r}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare two cold builds of the site.")
    parser.add_argument(
        "--builds",
        nargs=2,
        type=Path,
        metavar="DIR",
        help="compare two finished builds (folders holding _build/) instead of building twice",
    )
    args = parser.parse_args()
    if args.builds:
        first, second = (read_build(folder) for folder in args.builds)
    else:
        with tempfile.TemporaryDirectory(prefix="determinism-") as tmp:
            first = cold_build(Path(tmp) / "first")
            second = cold_build(Path(tmp) / "second")
    found = differences(first, second)
    flips = verdict_flips(first, second)
    sentences = sum(
        len(set(glued_sentences(first[k])) & set(glued_sentences(second[k]))) for k in set(first) & set(second)
    )
    if found:
        print("Non-timing outputs that differ between two cold builds (tag timing cells `timing`):")
        print("\n".join(f"  {line}" for line in found))
    else:
        print(f"{len(first)} lectures: every non-timing output is identical in two cold builds.")
    print(f"Verdict flips: {len(flips)} of {sentences} glued sentences changed their words between two cold builds.")
    print("\n".join(f"  {line}" for line in flips))
    if found or flips:
        sys.exit(1)


if __name__ == "__main__":
    main()
