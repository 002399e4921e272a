"""The profiling-and-scaling lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
what the profilers' outputs show, the relations the prose states between measured
values, and the verdict records behind the sentences that depend on a verdict,
never speed targets.
"""

import re

import pytest

import lecture_utils as lu
from conftest import text_output

LECTURE = "profiling_scaling"

CPROFILE_CELL = "stats.print_stats("
LINE_PROFILE_CELL = "line_profile = LineProfiler(run_study, read_regions)"
SAMPLED_ONE_THREAD = "with Profiler() as sampler:\n    run_study(input_text, 1)"
SAMPLED_TWO_THREADS = "with Profiler() as sampler:\n    run_study(input_text, THREADS)"
SAMPLED_KERNEL_ALONE = "with Profiler() as sampler:\n    one_long_epidemic()"
REPORT_PROFILES = "line_profile = LineProfiler(write_report, write_report_fixed)"
TOOLS = ["cprofile", "lineprofiler", "pyinstrument"]


@pytest.fixture(scope="module")
def page(lecture):
    return lecture(LECTURE)


@pytest.fixture(scope="module")
def values(page):
    return page.glued


def test_checks_ran(page):
    for name in [
        "conversions-not-listed",
        "kernel-one-call",
        "kernel-calls-python-once",
        "pyinstrument-no-kernel-frames",
        "pyinstrument-few-samples",
        "pyinstrument-kernel-without-caller",
        "pyinstrument-two-threads-same-tree",
    ]:
        page.checked(name)


# --- the three profilers name the hot function --------------------------------------


def test_cprofile_names_the_hot_function(page, values):
    # "The function with the largest tottime is F, with X % of the run. It is the compiled kernel" only where
    # F is simulate_all; otherwise the kernel's own share (one profiled run: a CI build's line profile once
    # put another line first).
    sentence = values["cprofile-kernel-sentence"]
    kernel_first = values["cprofile-hot"] == "simulate_all"
    assert (sentence == "It is the compiled kernel") == kernel_first, sentence
    assert (f"simulate_all, had {values['cprofile-kernel-share']:.0f} %" in sentence) == (not kernel_first), sentence
    assert values["cprofile-kernel-share"] <= values["cprofile-hot-share"]
    shown = text_output(page.cell(CPROFILE_CELL))
    assert "(simulate_all)" in shown and "(simulate_regions)" in shown, shown
    # "It does not list the float(...) and int(...) conversions of read_regions"
    assert "float" not in shown and "{built-in method builtins.int}" not in shown


def test_the_page_states_the_python_version_its_profiler_sentences_hold_for(values):
    # "On Python X, which built this page, Numba tells the interpreter's profiling hook ...;
    # from Python 3.12, cProfile listens to sys.monitoring events instead"
    major, minor = (int(part) for part in values["python-version"].split(".")[:2])
    assert (major, minor) < (3, 12), values["python-version"]


def test_line_profiler_names_the_hot_line(page, values):
    # "in run_study, the call of simulate_regions (the line results = simulate_regions(...)) took X % of the
    # run, more than any other line" only where it is the hottest line (a CI build's one profiled run put
    # another line first); otherwise it names the line that was.
    assert "simulate_regions(" in values["lineprof-kernel-line"]
    assert 0 < values["lineprof-kernel-share"] <= 100
    sentence, hot = values["lineprof-rank-sentence"], values["lineprof-hot-line"]
    kernel_first = hot == values["lineprof-kernel-line"]
    assert (sentence == "more than any other line") == kernel_first, sentence
    assert (f"less than the line {hot} in this run" in sentence) == (not kernel_first), sentence
    shown = text_output(page.cell(LINE_PROFILE_CELL))
    assert values["lineprof-kernel-line"] in shown and "read_regions" in shown, shown


def test_pyinstrument_names_the_hot_function_and_nothing_below_it(page, values):
    # "simulate_regions is the largest branch" only where it is; otherwise the page names the one that was.
    sentence, hot = values["pyinstrument-hot-sentence"], values["pyinstrument-hot"]
    assert sentence.startswith(f"{hot} is the largest branch"), sentence
    assert ("ahead of simulate_regions" in sentence) == (hot != "simulate_regions"), sentence
    shown = text_output(page.cell(SAMPLED_ONE_THREAD))
    assert "simulate_regions" in shown, shown
    # "with nothing below it, not even the compiled simulate_all that cProfile listed": in the tree shown, the
    # line after simulate_regions' is not indented deeper
    assert "simulate_all" not in shown and "simulate_one" not in shown, shown
    lines = shown.splitlines()
    at = next(i for i, line in enumerate(lines) if "simulate_regions" in line)
    time_column = lambda line: re.search(r"\d|$", line).start()  # noqa: E731  (a child's time sits further right)
    assert at + 1 == len(lines) or time_column(lines[at + 1]) <= time_column(lines[at]), shown


def test_pyinstrument_shows_a_kernel_returning_numbers_without_its_caller(page):
    # "A compiled function that returns plain numbers ... shows up cut off from its caller"
    shown = text_output(page.cell(SAMPLED_KERNEL_ALONE))
    assert "simulate_one" in shown, shown


def test_pyinstrument_on_two_threads_shows_the_same_tree_and_its_cpu_time(page, values):
    # "The tree has the same shape ... It shows only in the header's CPU time"
    shown = text_output(page.cell(SAMPLED_TWO_THREADS))
    assert "CPU time" in shown and "simulate_regions" in shown, shown
    assert "simulate_all" not in shown
    assert values["pyinstrument-cpu"] > 0 and values["pyinstrument-duration"] > 0
    # "over the many rounds timed for Amdahl's law below, simulate_regions on 2 threads kept X cores busy"
    if values["threads"] > 1:
        assert values["kernel-busy"] > 1.2


def test_profiler_outputs_show_file_names_without_folders(page):
    for snippet in [
        CPROFILE_CELL,
        LINE_PROFILE_CELL,
        SAMPLED_ONE_THREAD,
        SAMPLED_KERNEL_ALONE,
        SAMPLED_TWO_THREADS,
        REPORT_PROFILES,
    ]:
        shown = text_output(page.cell(snippet))
        assert "ipykernel_" not in shown, (snippet, shown)


# --- what the profilers cost ------------------------------------------------------------


def test_profilers_cost_most_on_the_call_heavy_phase_and_not_measurably_on_the_kernel(values):
    read_time_ratios = []
    for tool in TOOLS:
        read = values[f"overhead-read-{tool}-verdict"]
        assert read["baseline"] == "without a profiler", read
        # "On read_regions, the run under cProfile took X times as long as without a profiler, ..."
        assert read["verdict"] == "slower", read["phrase"]
        read_time_ratios.append(1 / read["ratio"])
    # "The whole study paid less: under a profiler it took A to B times its time without"
    assert 1 < values["overhead-study-low"] <= values["overhead-study-high"] < min(read_time_ratios)
    # "The compiled kernel under cProfile showed no measurable difference ..., as it did under the other two (table)"
    for tool in TOOLS:
        kernel = values[f"overhead-kernel-{tool}-verdict"]
        assert kernel["baseline"] == "without a profiler", kernel
        assert kernel["verdict"] == "no measurable difference", kernel["phrase"]


def test_a_profile_inflates_the_call_heavy_phase_more_than_the_other_loop(values):
    # "Inside read_regions cProfile recorded N calls ... write_report, ... one recorded call per line (M in all)"
    assert values["cprofile-read-calls"] > values["cprofile-report-calls"]
    # "cProfile put X % of the run in read_regions; timed without a profiler, below, it takes Y %"
    read_inflation = values["cprofile-read-share"] / values["read-share"]
    report_inflation = values["cprofile-report-share"] / values["report-share"]
    assert read_inflation > 1.5 * report_inflation, (read_inflation, report_inflation)
    # "write_report ... kept about its share: X % under cProfile, Y % without"
    assert 1 / 1.3 < report_inflation < 1.3, report_inflation


# --- Amdahl's law -----------------------------------------------------------------------


def test_serial_fraction_and_its_ceiling(values):
    assert 0 < values["serial-percent"] < 100
    # "never more than the ceiling": every prediction stays below 1/s
    assert values["predicted-2"] < values["predicted-16"] < values["predicted-64"] < values["ceiling"]
    # "On 64 cores nearly all of them would wait for the serial part"
    assert values["predicted-64"] / 64 < 0.1


def test_amdahl_prediction_agrees_with_the_measurement_on_two_threads(values):
    # The test: the prediction at p = 2 agrees with the measurement within the stated noise.
    # The kernel is embarrassingly parallel and the serial phases are timed in the same rounds, so
    # agreement is a designed property of the program; load widens the interval rather than moving it.
    record = values["amdahl-check-verdict"]
    assert record["baseline"] == "Amdahl's prediction"
    assert record["version"] == f"the study on {values['threads']} threads"
    assert record["verdict"] == "no measurable difference", record["phrase"]
    assert values["amdahl-check-numbers"].count("95 % interval") == 1
    # "the whole study's speed ratio ... was 1.486 (95 % interval ...); Amdahl's law predicted 1.490": three digits each
    assert re.fullmatch(r"\d\.\d{3} \(95 % interval \d\.\d{3} to \d\.\d{3}\)", values["measured-numbers"]), values[
        "measured-numbers"
    ]
    # The sentence after it follows the interval shown beside it.
    within = lu.Verdict.from_record(record).within
    if within <= 10:
        # "Within this machine's noise, one number measured on one thread ... was enough to predict the run on two."
        assert values["amdahl-branch"].startswith("Within this machine's noise"), values["amdahl-branch"]
    else:
        # "That interval, N % either way, is too wide for the check to tell much."
        assert values["amdahl-branch"].startswith(f"That interval, {within} % either way"), values["amdahl-branch"]


def test_amdahl_with_the_kernels_measured_ratio(values):
    # "Put that measured ratio into the law in place of 2, and it predicts X"
    s, kernel_ratio = values["serial-percent"] / 100, values["kernel-threads-ratio"]
    assert values["predicted-2-kernel"] == pytest.approx(1 / (s + (1 - s) / kernel_ratio), rel=1e-9)
    assert values["kernel-threads-numbers"].startswith(f"{kernel_ratio:.3f} (95 % interval")
    # "Round by round, the study on 2 threads showed no measurable difference from Amdahl's law with the
    # kernel's ratio ... So, within the noise, the program lost on two threads only what its parallel part lost."
    record = values["amdahl-kernel-check-verdict"]
    assert record["baseline"] == "Amdahl's law with the kernel's ratio"
    assert record["version"] == f"the study on {values['threads']} threads"
    assert record["verdict"] == "no measurable difference", record["phrase"]
    assert values["amdahl-kernel-check-numbers"].count("95 % interval") == 1


def test_two_thread_verdicts_are_against_one_thread(values):
    assert values["study-threads-verdict"]["baseline"] == "the study on one thread"
    assert values["kernel-threads-verdict"]["baseline"] == "simulate_regions on one thread"
    # the kernel is the parallel part: it gains more from the second thread than the whole study
    assert values["kernel-threads-ratio"] > values["study-threads-ratio"]


# --- weak scaling and the fitted model --------------------------------------------------------


def test_the_model_fits_its_points(values):
    # "The model reproduces all eight medians to within X %"
    assert values["fit-worst"] < 10
    assert 0 < values["fit-serial-percent"] < 100


def test_weak_scaling_in_regions_costs_time_and_in_steps_is_given_as_numbers(values):
    record = values["weak-regions-verdict"]
    assert record["baseline"] == "the smaller problem on one thread" and record["version"] == "twice the regions"
    # "Growing the regions is not [Gustafson's case]: reading and writing grow with the problem"
    assert record["verdict"] == "slower", values["weak-regions"]
    assert values["weak-steps-numbers"].count("95 % interval") == 1


def test_the_fitted_overhead_and_its_branch(values):
    # "The overhead came out as d = X (95 % interval L to H ...), at most P % of the study's time on 2 threads: ..."
    share = values["fit-d-high-share"]
    assert share >= 0 and values["fit-d-high-s"] >= 0
    if share < 100 * lu.NOISE_THRESHOLD:
        assert values["fit-d-branch"].startswith(
            "below the noise threshold of 5 %, so this machine's two threads cannot resolve"
        ), values["fit-d-branch"]
    else:
        assert not values["fit-d-branch"].startswith("below"), values["fit-d-branch"]


def test_extrapolation_with_hypothetical_overheads(values):
    # "without overheads the time would not change at all" when growing the steps
    assert values["model-weak-steps-64-no-d"] == pytest.approx(1.0)
    # growing the regions: reading and writing grow with the problem, on one core
    assert values["model-weak-regions-64-no-d"] < 0.5
    # "the study as it is and the study grown in regions end below an efficiency of B under every assumption:
    # their serial part leaves most cores idle"
    bound = values["model-serial-bound-64"]
    assert bound < 0.5, bound
    for key in ["strong", "weak-regions"]:
        for suffix in ["", "-log", "-no-d"]:
            assert values[f"model-{key}-64{suffix}"] < bound, (key, suffix)
    # a hypothetical d (p - 1) >= d log2 p >= 0 at every p >= 1 lowers each curve in that order
    for key in ["strong", "weak-steps", "weak-regions"]:
        assert (
            values[f"model-{key}-64"] <= values[f"model-{key}-64-log"] + 1e-12 <= values[f"model-{key}-64-no-d"] + 2e-12
        ), key
    # "Only growing the steps can keep the cores busy, and there the assumption decides how busy: A, B and C"
    assert values["model-weak-steps-64-no-d"] > 2 * bound
    if values["fit-d-high-s"] > 0:
        assert values["model-weak-steps-64"] < values["model-weak-steps-64-log"] < values["model-weak-steps-64-no-d"]


# --- the worked case and the exercises ------------------------------------------------------


def test_worked_case(values):
    # "only X times sooner for 8 times the cores, and Y times the core-hours"
    assert values["case-speedup-64"] < 8 and values["case-cost-64"] > 1
    # "no node, however large, beats the serial hours"
    assert values["case-64"] > values["case-serial"]


def test_fixing_the_report_lowers_the_serial_fraction(page, values):
    # "The loop's two lines take X % of the time"
    assert values["ex-loop-share"] > 80
    # "Both lines got cheaper: over the three calls, the for line took A instead of B, the writing line C instead of D"
    assert values["ex-loop-after-s"] < values["ex-loop-before-s"]
    assert values["ex-write-after-s"] < values["ex-write-before-s"]
    shown = text_output(page.cell(REPORT_PROFILES))
    assert "write_report_fixed" in shown and "results.T.tolist()" in shown, shown
    record = values["ex-fix-verdict"]
    assert record["baseline"] == "write_report" and record["verdict"] == "faster", values["ex-fix"]
    # "the serial fraction falls ... and the ceiling rises"
    assert values["ex-s-after"] < values["ex-s-before"]
    assert values["ex-ceiling-after"] > values["ceiling"]


def test_serial_fraction_from_two_timings(values):
    # "the gap between the two s, like the Amdahl check's, is below the noise threshold": the two values of s
    # predict times on 2 threads that differ by less than the threshold
    # only where they do; otherwise the page gives the gap (a quiet local run measured 5.2 %)
    gap = abs(values["ex-s-two"] - values["serial-percent"]) / 100 * (1 - 1 / values["threads"])
    assert values["ex-s-gap"] == pytest.approx(gap * values["predicted-2"])
    sentence, below = values["ex-s-gap-sentence"], values["ex-s-gap"] < lu.NOISE_THRESHOLD
    assert sentence.startswith("the gap between the two s is below the noise threshold") == below, sentence
    assert (f"{100 * values['ex-s-gap']:.1f} % apart, above the noise threshold" in sentence) == (not below), sentence
    if below:  # "as the Amdahl check's was" only where that check found no measurable difference
        amdahl_agreed = values["amdahl-check-verdict"]["verdict"] == "no measurable difference"
        assert sentence.endswith(", as the Amdahl check's was") == amdahl_agreed, sentence
    else:
        more = values["ex-s-two"] > values["serial-percent"]
        assert sentence.startswith("the two-timing s is the larger", sentence.index(": ") + 2) == more, sentence
