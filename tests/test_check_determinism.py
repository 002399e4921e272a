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


def glue_cell(values, tags=(), display=False):
    """A code cell that glued `values` ({name: python value}) as myst-nb's glue does."""
    cell = nbformat.v4.new_code_cell("lu.glue(...)", metadata={"tags": list(tags)})
    prefix = "" if display else check_determinism.GLUE_PREFIX
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={prefix + "text/plain": repr(value)},
            metadata={"scrapbook": {"name": name, "mime_prefix": prefix}},
        )
        for name, value in values.items()
    ]
    return cell


def glue_notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells.extend(cells)
    return nb


def test_hidden_glued_values_are_compared():
    a = glue_notebook(glue_cell({"mean": 0.51}))
    b = glue_notebook(glue_cell({"mean": 0.52}))
    assert len(check_determinism.differences({"lec": a}, {"lec": b})) == 1


def test_glued_sentences_keep_strings_with_words_only():
    nb = glue_notebook(
        glue_cell(
            {"verdict": "ran 2.1 times as fast as NumPy", "time": "12.3 ms", "ratio": 2.1, "count": "1,000"},
            tags=["timing"],
        )
    )
    assert check_determinism.glued_sentences(nb) == {"verdict": "ran 2.1 times as fast as NumPy"}


def test_verdict_flip_is_reported_in_timing_cells_and_numbers_are_masked():
    first = {
        "lec": glue_notebook(
            glue_cell({"a": "ran 2.1 times as fast as NumPy", "b": "took 12 ms, 3 % more"}, tags=["timing"])
        )
    }
    same_words = {
        "lec": glue_notebook(
            glue_cell({"a": "ran 1.9 times as fast as NumPy", "b": "took 9.5 ms, 10 % more"}, tags=["timing"])
        )
    }
    flipped = {
        "lec": glue_notebook(
            glue_cell({"a": "took 1.2 times as long as NumPy", "b": "took 12 ms, 3 % more"}, tags=["timing"])
        )
    }
    assert check_determinism.verdict_flips(first, same_words) == []
    (flip,) = check_determinism.verdict_flips(first, flipped)
    assert flip.startswith("lec, a:") and "as fast as" in flip and "as long as" in flip


def test_masked_replaces_every_number():
    assert check_determinism.masked("1,234.5 times, -3 %, 1e-05 and 2.0x") == "# times, # %, # and #x"
