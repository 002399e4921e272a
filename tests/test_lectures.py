"""The contract every lecture with code keeps, checked the same way for each.

For every lecture in the table of contents that has code:

* it executed: it is in the execution cache, every code cell ran, no cell shows an error;
* no cell wrote to stderr (except what ALLOWED_STDERR lists, with the reason);
* no output shows a local path (the build machine's folders mean nothing to a reader);
* every cell that shows a formatted duration ("12.3 ms", as lu.format_time writes
  it) is tagged `timing`, so that `make check-determinism` skips it;
* every verdict record glued by lu.Comparison.glue agrees with its words, and
  (once the lecture is on lu.compare) every speed verdict it glues comes from one;
* every image on its page has alt text that a screen reader can read in its place,
  not a file name, and every figure (an image of the page's content) at least
  MIN_ALT_WORDS words of it.

The checks are plain functions of notebook cells and glued values, so the unit
tests at the end can show that each of them fails when it should.
Claims a single lecture makes belong in tests/test_<lecture>.py.
"""

import re

import pytest
from bs4 import BeautifulSoup

import lecture_utils as lu
from conftest import LECTURE_SECONDS_LIMIT, ROOT, Lecture, joined, lectures_with_code, source, stderr, tags

LECTURES = [doc.removeprefix("lectures/") for doc in lectures_with_code()]

# stderr a lecture may write today: lecture -> [(regex every stderr line of a cell must
# match in full, why it is allowed)]. Anything else written to stderr fails the contract.
ALLOWED_STDERR: dict[str, list[tuple[str, str]]] = {}

LOCAL_PATH = re.compile(rf"/(?:tmp|root|home|work|Users)/|{re.escape(str(ROOT))}")
# A duration as lu.format_time writes it: '12.3 ms', '1.5e+03 s', '0 s'.
DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)? (?:s|ms|[µμ]s|ns)(?!\w)")
# Words that state how fast one version ran against another.
SPEED_VERDICT = re.compile(r"times as (?:fast|long)|\bfaster\b|\bslower\b|no measurable difference|\bas fast as\b")
# Alt text says what a figure shows and its take-away (lu.glue(..., alt=...)): a sentence, not a label.
MIN_ALT_WORDS = 5
IMAGE_FILE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp)\b", re.IGNORECASE)


# --- the checks --------------------------------------------------------------------


def where(number: int, cell: dict) -> str:
    """'cell 12 ('t_loop = lu.timeit(...')': the cell's index in the notebook and its first line."""
    lines = source(cell).strip().splitlines()
    return f"cell {number} ({lines[0][:60] if lines else ''!r})"


def code_cells(cells: list[dict]):
    """(index in the notebook, cell) for each code cell."""
    return [(number, cell) for number, cell in enumerate(cells) if cell["cell_type"] == "code"]


def execution_problems(cells: list[dict]) -> list[str]:
    """Code cells that did not run or show an error."""
    problems = []
    for number, cell in code_cells(cells):
        if cell.get("execution_count") is None:
            problems.append(f"{where(number, cell)} did not run")
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                problems.append(f"{where(number, cell)} shows an error: {out.get('ename')}: {out.get('evalue')}")
    return problems


def stderr_problems(cells: list[dict], allowed: list[tuple[str, str]] = ()) -> list[str]:
    """Cells that wrote to stderr, other than lines that match an allowed regex in full."""
    patterns = [re.compile(regex) for regex, _why in allowed]
    problems = []
    for number, cell in code_cells(cells):
        unexpected = [
            line for line in stderr(cell).splitlines() if line.strip() and not any(p.fullmatch(line) for p in patterns)
        ]
        if unexpected:
            problems.append(f"{where(number, cell)} wrote to stderr: " + "\n".join(unexpected)[:500])
    return problems


def shown_texts(out: dict) -> list[str]:
    """The texts of an output that a reader can see: a stream's text, each text/* entry
    of a result or display (text/plain, and text/html for tables and Stylers)."""
    if out["output_type"] == "stream":
        return [joined(out["text"])]
    return [joined(value) for mime, value in out.get("data", {}).items() if mime.startswith("text/")]


def output_texts(out: dict) -> list[str]:
    """Every text an output holds: what it shows, the text of a glued value (myst-nb keeps
    it under application/papermill.record/text/*, for the page) and an error's traceback."""
    if out["output_type"] == "error":
        return [out.get("evalue", ""), *out.get("traceback", [])]
    glued = [
        joined(value)
        for mime, value in out.get("data", {}).items()
        if mime.startswith("application/papermill.record/text/")
    ]
    return shown_texts(out) + glued


def local_path_problems(cells: list[dict]) -> list[str]:
    """Cells whose outputs (glued values included) show a local path."""
    problems = []
    for number, cell in code_cells(cells):
        for out in cell.get("outputs", []):
            for text in output_texts(out):
                if match := LOCAL_PATH.search(text):
                    context = text[max(0, match.start() - 60) : match.end() + 60]
                    problems.append(f"{where(number, cell)} shows a local path: ...{context}...")
    return problems


def untagged_timing_cells(cells: list[dict]) -> list[str]:
    """Cells that show a formatted duration (as text or in an HTML table) but are not tagged `timing`."""
    problems = []
    for number, cell in code_cells(cells):
        match = DURATION.search("\n".join(text for out in cell.get("outputs", []) for text in shown_texts(out)))
        if match and "timing" not in tags(cell):
            problems.append(f"{where(number, cell)} shows the duration {match.group(0)!r} but is not tagged timing")
    return problems


def verdict_records(glued: dict) -> dict[str, dict]:
    """{K: record} for every glued `K-verdict` that is a verdict record."""
    return {
        name.removesuffix("-verdict"): value
        for name, value in glued.items()
        if isinstance(value, dict) and value.get("kind") == "verdict" and name.endswith("-verdict")
    }


def verdict_problems(glued: dict) -> list[str]:
    """Verdict records that do not agree with their own numbers or with the words glued beside them.

    For each record under `K-verdict` (glued by lu.Comparison.glue), the verdict
    rebuilt from its numbers must give the record's verdict and phrase, `K` must
    be that phrase and `K-ratio` the record's ratio.
    """
    problems = []
    for name, value in glued.items():
        if isinstance(value, dict) and value.get("kind") == "verdict" and not name.endswith("-verdict"):
            problems.append(f"{name}: a verdict record glued under a name that does not end in -verdict")
    for name, record in verdict_records(glued).items():
        try:
            verdict = lu.Verdict.from_record(record)
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{name}-verdict: not a valid verdict record: {error}")
            continue
        if record.get("verdict") != verdict.verdict:
            problems.append(f"{name}-verdict: says {record.get('verdict')!r}, its numbers say {verdict.verdict!r}")
        if record.get("phrase") != verdict.phrase:
            problems.append(f"{name}-verdict: phrase {record.get('phrase')!r}, its numbers say {verdict.phrase!r}")
        if glued.get(name) != verdict.phrase:
            problems.append(f"{name}: glued {glued.get(name)!r}, its record says {verdict.phrase!r}")
        if glued.get(f"{name}-ratio") != record["ratio"]:
            problems.append(f"{name}-ratio: glued {glued.get(f'{name}-ratio')!r}, its record says {record['ratio']!r}")
    return problems


def unrecorded_verdicts(glued: dict) -> list[str]:
    """Glued texts that state a speed verdict without the phrase of any of the lecture's verdict records."""
    phrases = [record.get("phrase") for record in verdict_records(glued).values()]
    return [
        f"{name}: {value!r} states a speed verdict that no verdict record made"
        for name, value in glued.items()
        if isinstance(value, str)
        and SPEED_VERDICT.search(value)
        and not any(isinstance(p, str) and p in value for p in phrases)
    ]


def image_alt_problems(html: str) -> list[str]:
    """<img> elements of a page whose alt text is missing or a file name or path, and figures whose alt text
    is shorter than MIN_ALT_WORDS words.

    Without alt text, Sphinx writes the image's own path as its alt text. A figure is an image of the
    page's content, which Sphinx copies to _images/; the theme's icons ('Colab logo') are not figures.
    """
    problems = []
    for img in BeautifulSoup(html, "html.parser").find_all("img"):
        src, alt = img.get("src", ""), " ".join(img.get("alt", "").split())
        file_name = src.rsplit("/", 1)[-1]
        if not alt:
            problems.append(f"<img src={src!r}> has no alt text")
        elif (file_name and file_name in alt) or IMAGE_FILE.search(alt):
            problems.append(f"<img src={src!r}> has a file name as alt text: {alt!r}")
        elif "_images/" in src and len(alt.split()) < MIN_ALT_WORDS:
            problems.append(f"<img src={src!r}> has alt text of fewer than {MIN_ALT_WORDS} words: {alt!r}")
    return problems


# --- every lecture ---------------------------------------------------------------------


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_the_lists_name_only_lectures():
    assert LECTURES, "no lectures with code in the table of contents"
    assert set(ALLOWED_STDERR) <= set(LECTURES), set(ALLOWED_STDERR) - set(LECTURES)


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_executed_without_errors(lecture, name):
    problems = execution_problems(lecture(name).notebook["cells"])  # fails if it is not in the cache
    assert not problems, report(problems)


# Every lecture is one session and executes in at most 3 minutes on the 2-core build machine
# (CONTRIBUTING, "Size and speed"). The status page executes on every build, outside the cache.
@pytest.mark.parametrize("name", [name for name in LECTURES if name != "status"])
def test_lecture_executes_in_under_three_minutes(lecture, name):
    seconds = lecture(name).execution_seconds
    assert seconds < LECTURE_SECONDS_LIMIT, f"{name} took {seconds:.0f} s to execute (limit {LECTURE_SECONDS_LIMIT} s)"


@pytest.mark.parametrize("name", LECTURES)
def test_no_stderr(lecture, name):
    problems = stderr_problems(lecture(name).notebook["cells"], ALLOWED_STDERR.get(name, []))
    assert not problems, report(problems)


@pytest.mark.parametrize("name", LECTURES)
def test_no_local_paths_in_outputs(lecture, name):
    problems = local_path_problems(lecture(name).notebook["cells"])
    assert not problems, report(problems)


@pytest.mark.parametrize("name", LECTURES)
def test_cells_showing_durations_are_tagged_timing(lecture, name):
    problems = untagged_timing_cells(lecture(name).notebook["cells"])
    assert not problems, report(problems)


@pytest.mark.parametrize("name", LECTURES)
def test_verdict_records_agree_with_their_words(lecture, name):
    problems = verdict_problems(lecture(name).glued)
    assert not problems, report(problems)


@pytest.mark.parametrize("name", LECTURES)
def test_speed_verdicts_come_from_verdict_records(lecture, name):
    problems = unrecorded_verdicts(lecture(name).glued)
    assert not problems, report(problems)


@pytest.mark.parametrize("name", LECTURES)
def test_every_image_has_alt_text(site, name):
    problems = image_alt_problems((site / "lectures" / f"{name}.html").read_text())
    assert not problems, f"{name}: " + report(problems) + "\n(give a figure its alt text: lu.glue(name, fig, alt=...))"


# --- the checks can fail: synthetic cells and glued values -----------------------------


def cell(code="x = 1", outputs=(), cell_tags=(), execution_count=1):
    return {
        "cell_type": "code",
        "source": code,
        "metadata": {"tags": list(cell_tags)},
        "execution_count": execution_count,
        "outputs": list(outputs),
    }


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def result(text, output_type="execute_result", mime="text/plain"):
    return {"output_type": output_type, "data": {mime: text}, "metadata": {}}


def glued_verdict(name="numba", version="Numba", baseline="NumPy", ratio=2.1, low=1.9, high=2.3):
    """What lu.Comparison.glue(name, version) glues, for a made-up verdict."""
    record = lu.Verdict(version, baseline, ratio, low, high).record()
    return {name: record["phrase"], f"{name}-ratio": ratio, f"{name}-verdict": record}


def test_execution_check_finds_errors_and_cells_that_did_not_run():
    assert execution_problems([cell(), {"cell_type": "markdown", "source": "text"}]) == []
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}
    assert execution_problems([cell(), cell("boom()", [error])]) == [
        "cell 1 ('boom()') shows an error: ValueError: bad"
    ]
    assert execution_problems([cell(execution_count=None)]) == ["cell 0 ('x = 1') did not run"]


def test_stderr_check_finds_stderr_and_honours_the_allow_list():
    assert stderr_problems([cell(outputs=[stream("fine\n")])]) == []
    warned = cell("f()", [stream("UserWarning: careful\n", name="stderr")])
    assert stderr_problems([warned]) == ["cell 0 ('f()') wrote to stderr: UserWarning: careful"]
    assert stderr_problems([warned], [(r"UserWarning: careful", "a known warning")]) == []
    assert len(stderr_problems([warned], [(r"UserWarning", "matches only part of the line")])) == 1


def test_local_path_check_looks_at_streams_results_displays_and_glued_values():
    assert local_path_problems([cell(outputs=[stream("1.5 ms\n"), result("array([1, 2])")])]) == []
    for out in [
        stream("saved to /tmp/abc/x.npy\n"),
        stream("/home/me\n", name="stderr"),
        result("PosixPath('/work/base/lectures')"),
        result("<b>/Users/me</b>", "display_data", "text/html"),
        result(f"'{ROOT}/lectures'", "display_data", "application/papermill.record/text/plain"),
    ]:
        assert len(local_path_problems([cell(outputs=[out])])) == 1, out


def test_timing_check_finds_untagged_cells_that_show_durations():
    for shown in ["median 12.3 ms\n", "took 1.5 s", "4.07 µs per call", "0 s", "1.23e+03 s", "(850 ns)"]:
        assert len(untagged_timing_cells([cell(outputs=[stream(shown)])])) == 1, shown
        assert untagged_timing_cells([cell(outputs=[stream(shown)], cell_tags=["timing"])]) == [], shown
    table = result("           median\nNumba    3.2 ms", "display_data")
    assert untagged_timing_cells([cell("show(t)", [table])]) == [
        "cell 0 ('show(t)') shows the duration '3.2 ms' but is not tagged timing"
    ]
    styler = {
        "output_type": "execute_result",
        "metadata": {},
        "data": {"text/plain": "<Styler at 0x7f>", "text/html": "<td>3.2 ms</td>"},
    }
    assert len(untagged_timing_cells([cell(outputs=[styler])])) == 1
    glued_time = result("'3.2 ms'", "display_data", "application/papermill.record/text/plain")
    assert untagged_timing_cells([cell(outputs=[glued_time])]) == []  # glued for the page, not shown by the cell
    for not_a_duration in ["5 samples", "2 steps", "x_1.5 s", "float64", "3 seconds per page of 2 sheets"]:
        assert untagged_timing_cells([cell(outputs=[stream(not_a_duration)])]) == [], not_a_duration


def test_verdict_check_accepts_what_comparison_glue_writes():
    glued = {**glued_verdict(), **glued_verdict("jax", "JAX", ratio=0.98, low=0.9, high=1.05), "other": 3}
    assert verdict_problems(glued) == []
    assert unrecorded_verdicts({**glued, "sentence": f"Numba {glued['numba']}, and JAX {glued['jax']}."}) == []


def test_verdict_check_finds_an_edited_record():
    glued = glued_verdict()
    glued["numba-verdict"] = {**glued["numba-verdict"], "phrase": "ran 3.0 times as fast as NumPy"}
    assert verdict_problems(glued) == [
        "numba-verdict: phrase 'ran 3.0 times as fast as NumPy', its numbers say 'ran 2.1 times as fast as NumPy'"
    ]
    glued = glued_verdict()
    glued["numba-verdict"] = {**glued["numba-verdict"], "verdict": "slower"}
    assert len(verdict_problems(glued)) == 1
    glued = glued_verdict()
    glued["numba-verdict"] = {**glued["numba-verdict"], "low": 0.5}  # the interval now includes 1
    assert len(verdict_problems(glued)) == 3  # verdict, phrase and the glued words all disagree now
    glued = glued_verdict()
    del glued["numba-verdict"]["ratio"]
    assert verdict_problems(glued) == ["numba-verdict: not a valid verdict record: 'ratio'"]


def test_verdict_check_finds_words_or_ratio_that_differ_from_the_record():
    glued = {**glued_verdict(), "numba": "ran 2.5 times as fast as NumPy"}
    assert verdict_problems(glued) == [
        "numba: glued 'ran 2.5 times as fast as NumPy', its record says 'ran 2.1 times as fast as NumPy'"
    ]
    assert len(verdict_problems({**glued_verdict(), "numba-ratio": 2.2})) == 1
    missing = glued_verdict()
    del missing["numba"], missing["numba-ratio"]
    assert len(verdict_problems(missing)) == 2
    assert len(verdict_problems({"odd": glued_verdict()["numba-verdict"]})) == 1  # a record under another name


def test_verdict_sentences_without_a_record_are_found():
    for sentence in [
        "Numba ran 2.5 times as fast as NumPy.",
        "JAX was 1.3 times faster than NumPy",
        "it took 2.0 times as long",
        "slower than the loop",
        "showed no measurable difference",
    ]:
        assert unrecorded_verdicts({**glued_verdict(), "sentence": sentence}) == [
            f"sentence: {sentence!r} states a speed verdict that no verdict record made"
        ]
    assert unrecorded_verdicts({"count": 3, "fig": "<Figure size 640x480 with 1 Axes>", "t": "1.2 ms"}) == []


def test_alt_text_check_finds_missing_file_name_and_short_alt_text():
    sentence = "Line plot of time against threads: the time halves on two threads."
    assert image_alt_problems(f'<p><img src="../_images/5a4a.png" alt="{sentence}"></p>') == []
    assert image_alt_problems("<p>no images</p>") == []
    for img, problem in [
        ('<img src="../_images/5a4a.png">', "<img src='../_images/5a4a.png'> has no alt text"),
        ('<img src="a.png" alt="  ">', "<img src='a.png'> has no alt text"),
        (
            '<img src="../_images/5a4a.png" alt="../_images/5a4a.png">',
            "<img src='../_images/5a4a.png'> has a file name as alt text: '../_images/5a4a.png'",
        ),
        (
            '<img src="x/plot.svg" alt="The figure plot.svg, drawn by the build">',
            "<img src='x/plot.svg'> has a file name as alt text: 'The figure plot.svg, drawn by the build'",
        ),
        (
            '<img src="../_images/a.png" alt="A line plot.">',
            "<img src='../_images/a.png'> has alt text of fewer than 5 words: 'A line plot.'",
        ),
    ]:
        assert image_alt_problems(f"<p>{img}</p><img src='../_images/b.png' alt='{sentence}'>") == [problem], img
    assert image_alt_problems('<img src="../_static/images/logo_colab.png" alt="Colab logo">') == []  # an icon


def test_lecture_helpers_fail_clearly():
    one = Lecture(LECTURES[0])  # its notebook and glued values replaced by synthetic ones below
    one.glued = {"checked-agree": True, "checked-half": "True"}
    one.checked("agree")
    for name in ["half", "missing"]:
        with pytest.raises(AssertionError, match=f"checked-{name} was not glued as True"):
            one.checked(name)
    markdown = {"cell_type": "markdown", "source": "b = 1", "metadata": {"tags": ["timing"]}}
    one.notebook = {"cells": [cell("a = 1"), cell("a = 2", cell_tags=["timing"]), markdown]}
    assert one.cell("a = 2")["source"] == "a = 2"
    assert one.cells_tagged("timing") == [one.cell("a = 2")] and one.cells_tagged("remove-cell") == []
    for snippet, found in [("a = ", 2), ("b = 1", 0)]:
        with pytest.raises(AssertionError, match=f"expected one code cell containing {snippet!r}, found {found}"):
            one.cell(snippet)


def test_lecture_fixture_gives_one_object_per_lecture(lecture):
    assert lecture(LECTURES[0]) is lecture(LECTURES[0]) is not lecture(LECTURES[1])


def test_an_edited_lecture_that_did_not_execute_is_not_found(lecture):
    edited = Lecture(LECTURES[0])
    edited.source = lecture(LECTURES[0]).source + "\n```{code-cell} ipython3\nprint('added after the build')\n```\n"
    with pytest.raises(pytest.fail.Exception, match="as it is now, is not in the execution cache"):
        edited.notebook
