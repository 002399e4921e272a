"""The profiling-and-scaling lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
what the profilers' outputs show, the relations the prose states between measured
values, and the verdict records behind the sentences that depend on a verdict,
never speed targets.
"""

import pytest

import lecture_utils as lu
from conftest import text_output

LECTURE = "profiling_scaling"


@pytest.fixture(scope="module")
def page(lecture):
    return lecture(LECTURE)


@pytest.fixture(scope="module")
def values(page):
    return page.glued


def test_checks_ran(page):
    for name in ["conversions-not-listed", "kernel-one-call", "hot-line-is-the-kernel",
                 "pyinstrument-no-kernel-frames"]:
        page.checked(name)


# --- the three profilers name the hot function --------------------------------------


def test_cprofile_names_the_hot_function(page, values):
    # "The function with the largest tottime is simulate_all ... It is the compiled kernel"
    assert values["cprofile-hot"] == "simulate_all"
    shown = text_output(page.cell("stats.print_stats("))
    assert "(simulate_all)" in shown and "(simulate_regions)" in shown, shown
    # "It does not list the float(...) and int(...) conversions of read_regions"
    assert "float" not in shown and "{built-in method builtins.int}" not in shown


def test_line_profiler_names_the_hot_line(page, values):
    # "in run_study, the line results = simulate_regions(...) took X % of the run"
    assert "simulate_regions(" in values["lineprof-hot-line"]
    assert 0 < values["lineprof-hot-share"] <= 100
    shown = text_output(page.cell("line_profile = LineProfiler(run_study, read_regions)"))
    assert values["lineprof-hot-line"] in shown and "read_regions" in shown, shown


def test_pyinstrument_names_the_hot_function_and_nothing_below_it(page, values):
    assert values["pyinstrument-hot"] == "simulate_regions"
    shown = text_output(page.cell("run_study(input_text, 1)\nsampler.stop()"))
    assert "simulate_regions" in shown, shown
    # "Nothing is shown below it, not even the compiled simulate_all that cProfile listed"
    assert "simulate_all" not in shown and "simulate_one" not in shown, shown


def test_pyinstrument_on_two_threads_shows_the_same_tree_and_its_cpu_time(page, values):
    # "The tree is the same shape as before ... The one place it shows is the header's CPU time"
    page.checked("pyinstrument-two-threads-same-tree")
    shown = text_output(page.cell("run_study(input_text, THREADS)\nsampler.stop()"))
    assert "CPU time" in shown and "simulate_regions" in shown, shown
    assert "simulate_all" not in shown
    assert values["pyinstrument-cpu"] > 0 and values["pyinstrument-duration"] > 0
    # "over the many rounds of the next section, simulate_regions on 2 threads kept X cores busy"
    if values["threads"] > 1:
        assert values["kernel-busy"] > 1.2


def test_profiler_outputs_show_file_names_without_folders(page):
    for snippet in ["stats.print_stats(", "line_profile = LineProfiler(run_study, read_regions)",
                    "run_study(input_text, 1)\nsampler.stop()", "run_study(input_text, THREADS)\nsampler.stop()"]:
        shown = text_output(page.cell(snippet))
        assert "ipykernel_" not in shown, (snippet, shown)


# --- what the profilers cost ------------------------------------------------------------


def test_profilers_cost_most_on_the_python_phase(values):
    # "On read_regions, the run under cProfile took ... times as long as without a profiler ..."
    for tool in ["cprofile", "lineprofiler", "pyinstrument"]:
        record = values[f"overhead-read-{tool}-verdict"]
        assert record["baseline"] == "without a profiler", record
        assert record["verdict"] == "slower", values[f"overhead-read-{tool}"]
        # "On the whole study the cost is smaller ... we give it as numbers"
        assert values[f"overhead-study-{tool}"].count("95 % interval") == 1
        assert values[f"overhead-study-{tool}-ratio"] < 1 / record["ratio"]


def test_a_profile_inflates_the_python_phase(values):
    # "cProfile put X % of the run in read_regions; timed without a profiler, below, it takes Y %"
    assert values["cprofile-read-share"] > values["read-share"]


# --- Amdahl's law -----------------------------------------------------------------------


def test_serial_fraction_and_its_ceiling(values):
    assert 0 < values["serial-percent"] < 100
    # "never more than the ceiling": every prediction stays below 1/s
    assert values["predicted-2"] < values["predicted-16"] < values["predicted-64"] < values["ceiling"]
    # "On 64 cores nearly all of them would wait for the serial part"
    assert values["predicted-64"] / 64 < 0.1


def test_amdahl_prediction_against_the_measurement_as_the_prose_states_it(values):
    record = values["amdahl-check-verdict"]
    assert record["baseline"] == "Amdahl's prediction"
    assert record["version"] == f"the study on {values['threads']} threads"
    branch = values["amdahl-branch"]
    within = lu.Verdict.from_record(record).within
    if record["verdict"] != "no measurable difference":
        assert branch.startswith("The gap is larger than the noise"), branch
    elif within <= 10:
        # "Within this machine's noise, one number measured on one thread ... was enough to predict the run on two."
        assert branch.startswith("Within this machine's noise"), branch
        # the prediction on the page lies within the stated noise of the measured interval shown beside it
        measured = values["study-threads-verdict"]
        assert measured["low"] * (1 - within / 100) <= values["predicted-2"] <= measured["high"] * (1 + within / 100)
    else:
        # "That interval, N % either way, is too wide for the check to tell much"
        assert branch.startswith(f"That interval, {within} % either way"), branch


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


def test_extrapolation_tells_the_two_kinds_of_weak_scaling_apart(values):
    # "without overheads the time would not change at all" when growing the steps
    assert values["model-weak-steps-64-no-d"] == pytest.approx(1.0)
    # growing the regions: reading and writing grow with the problem, on one core
    assert values["model-weak-regions-64-no-d"] < 0.5
    # "The overhead term lowers every curve"
    for key in ["strong", "weak-steps", "weak-regions"]:
        assert values[f"model-{key}-64"] <= values[f"model-{key}-64-no-d"] + 1e-12


# --- the worked case and the exercises ------------------------------------------------------


def test_worked_case(values):
    # "only X times sooner for 8 times the cores, and Y times the core-hours"
    assert values["case-speedup-64"] < 8 and values["case-cost-64"] > 1
    # "no node, however large, beats the serial hours"
    assert values["case-64"] > values["case-serial"]


def test_fixing_the_report_lowers_the_serial_fraction(values):
    # "Nearly all the time is in the loop's two lines (X %)"
    assert values["ex-loop-share"] > 80
    record = values["ex-fix-verdict"]
    assert record["baseline"] == "write_report" and record["verdict"] == "faster", values["ex-fix"]
    # "the serial fraction falls ... and the ceiling rises"
    assert values["ex-s-after"] < values["ex-s-before"]
    assert values["ex-ceiling-after"] > values["ceiling"]
