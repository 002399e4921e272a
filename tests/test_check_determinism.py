"""scripts/check_determinism.py compares non-timing outputs and skips cells tagged `timing`."""

import sys

import nbformat

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import check_determinism  # noqa: E402


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for source, text, tags in cells:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


def test_identical_builds_have_no_differences():
    a = notebook(("print(1)", "1\n", []))
    assert check_determinism.differences({"lec": a}, {"lec": a}) == []


def test_changed_number_is_reported_with_lecture_and_cell():
    a = notebook(("x = 1", "", []), ("print(mean)", "0.51\n", []))
    b = notebook(("x = 1", "", []), ("print(mean)", "0.52\n", []))
    assert check_determinism.differences({"lec": a}, {"lec": b}) == [
        "lec, cell 1 ('print(mean)'): outputs differ\n      '0.51'\n      '0.52'"
    ]


def test_cells_tagged_timing_are_skipped():
    a = notebook(("print(t)", "3.1 ms\n", ["timing"]))
    b = notebook(("print(t)", "2.9 ms\n", ["timing"]))
    assert check_determinism.differences({"lec": a}, {"lec": b}) == []


def test_lecture_missing_from_one_build_is_reported():
    a = notebook(("print(1)", "1\n", []))
    assert check_determinism.differences({"lec": a}, {}) == ["lec: executed in only one build"]


def test_stream_chunks_and_object_addresses_do_not_count():
    a = notebook(("print(x); x", "1\n2\n", []))
    b = notebook(("print(x); x", "1\n", []))
    b.cells[0].outputs.append(nbformat.v4.new_output("stream", name="stdout", text="2\n"))
    assert check_determinism.differences({"lec": a}, {"lec": b}) == []
    c = notebook(("lock", "<RLock at 0x7f01>\n", []))
    d = notebook(("lock", "<RLock at 0x7f99>\n", []))
    assert check_determinism.differences({"lec": c}, {"lec": d}) == []
