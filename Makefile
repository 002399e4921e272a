# The two commands: `make book` builds the site, `make test` builds it and runs the tests.
# Both create .venv (if missing) and install the pinned requirements into it.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILD  := _build
# The site's build command with its flags and environment, defined once in scripts/site_build.py
# (warnings and failing cells fail the build; lecture_utils knows it runs inside the site build).
SITE_BUILD := $(BIN)/python scripts/site_build.py

.PHONY: book lecture book-nosolutions test test-fast lint lint-fix browser env clean clean-cache bench-build check-determinism noise-threshold record record-wheels pdf

env: $(STAMP)

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Browser-side packages from npm, pinned in package.json and package-lock.json: MathJax,
# which the site serves itself (copied into lectures/_static/mathjax, _config.yml's
# mathjax_path) so that maths typesets offline, and axe-core for the accessibility test.
# npm is installed when make runs as root (as in CI).
NPM_STAMP := node_modules/.installed
MATHJAX   := lectures/_static/mathjax/tex-chtml.js

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; \
	  else echo "error: npm not found; install Node.js with npm (sudo apt-get install npm)"; exit 1; fi; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(MATHJAX): $(NPM_STAMP)
	rm -rf $(@D)
	cp -R node_modules/mathjax/es5 $(@D)
	cp node_modules/mathjax/LICENSE $(@D)/

# The execution cache keys on each notebook's code only; results also depend on the
# shared helpers, the pins, the recorded results and the machine, so a change to any of
# them (by content) starts a clean build (scripts/cache_key.py).
CACHE_KEY := $(BIN)/python scripts/cache_key.py $(BUILD)

book: $(STAMP) $(MATHJAX)
	@$(CACHE_KEY)
	@# The status page describes this build's machine and load: read and executed by every build.
	@touch lectures/status.md
	@$(SITE_BUILD) .
	@# Plain notebooks for download and Colab, from the same execution cache (_ext/notebooks.py).
	$(SITE_BUILD) . --builder=custom --custom-builder=jupyter > $(BUILD)/jupyter.log 2>&1 \
	  || { cat $(BUILD)/jupyter.log; echo "NOTEBOOK BUILD FAILED"; exit 1; }
	$(BIN)/python _ext/notebooks.py

# The writer's loop: `make lecture NAME=numba_parallel` builds the site's pages (executing
# only lectures whose code changed, as `make book` does, but without the downloadable
# notebooks), then runs that lecture's tests and the shared lecture contract for it.
LECTURE_NAMES := $(sort $(basename $(notdir $(wildcard lectures/*.md))))
lecture: $(STAMP) $(MATHJAX)
	@if [ -z "$(filter $(NAME),$(LECTURE_NAMES))" ] || [ "$(words $(NAME))" != 1 ]; then \
	  echo "usage: make lecture NAME=<lecture>, where <lecture> is one of: $(LECTURE_NAMES)"; exit 2; fi
	@$(CACHE_KEY)
	@$(SITE_BUILD) .
	@tests="$(wildcard tests/test_$(NAME).py) $$($(BIN)/python -m pytest -q --collect-only tests/test_lectures.py | grep -F "[$(NAME)]")"; \
	if [ -z "$$(echo $$tests)" ]; then echo "$(NAME) has no tests of its own and executes no code"; \
	else $(BIN)/python -m pytest -m "not slow and not browser" $$tests; fi

# The same site without worked solutions, for instructors, in _build/nosolutions/_build/html.
# It reuses the main build's execution cache, so only changed lectures execute.
NOSOL := $(BUILD)/nosolutions
book-nosolutions: $(STAMP) $(MATHJAX)
	@$(CACHE_KEY)
	mkdir -p $(NOSOL)
	$(BIN)/python -c "import yaml; c = yaml.safe_load(open('_config.yml')); \
	  c['title'] += ' (exercises without solutions)'; c['sphinx']['config']['lectures_hide_solutions'] = True; \
	  c['execute']['cache'] = '$(CURDIR)/$(BUILD)/.jupyter_cache'; c['sphinx']['local_extensions'] = {k: '$(CURDIR)/_ext' for k in c['sphinx']['local_extensions']}; \
	  yaml.safe_dump(c, open('$(NOSOL)/_config.yml', 'w'), sort_keys=False)"
	$(SITE_BUILD) . --config $(NOSOL)/_config.yml --path-output $(NOSOL)

# Debian's chromium for the real-browser tests (tests/test_browser.py); installed when
# make runs as root (as in CI), otherwise those tests say how to install it and skip.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "note: /usr/bin/chromium missing; the browser tests will be skipped (sudo apt-get install chromium)"; fi; \
	fi

# ruff over the Python files and the lectures' code cells (scripts/lint.py, pyproject.toml).
lint: $(STAMP)
	$(BIN)/python scripts/lint.py

# Apply ruff's safe fixes and its formatter to the Python files (lecture cells are only checked).
lint-fix: $(STAMP)
	$(BIN)/python scripts/lint.py --fix

# The whole suite, as CI runs it (.ci/run): lint first, then browser, PDF, notebook re-execution and all.
test: lint book browser
	$(BIN)/python -m pytest

# Lint, then everything but the slow and the browser tests (pytest.ini says what those are),
# over the build that `make book` leaves (only changed lectures execute).
test-fast: lint book
	$(BIN)/python -m pytest -m "not slow and not browser"

bench-build: $(STAMP) $(MATHJAX)
	$(BIN)/python scripts/bench_build.py

# The whole site as one PDF, _build/pdf/parallel-computing-in-python.pdf (Chromium needed).
pdf: book browser
	$(BIN)/python scripts/build_pdf.py

# Record this machine's results into lectures/data/record-<machine>.json (scripts/record.py):
# CPU scaling of the key kernels at 1, 2, 4, ... threads and, with an NVIDIA GPU, the GPU
# lecture's benchmarks. It runs with the machine's own Python, not the project's .venv:
# `make record RECORD_PYTHON=.venv/bin/python` uses the venv instead. `make record-wheels`
# first downloads the small pure-Python wheels it may lack into build/record-wheels.
RECORD_PYTHON ?= python3
record:
	$(RECORD_PYTHON) scripts/record.py $(RECORD_ARGS)

record-wheels: $(STAMP)
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --dest build/record-wheels \
		$$(grep -E '^threadpoolctl==' requirements.txt)

# Two cold builds: non-timing outputs (cells not tagged `timing`) must be identical, and no
# glued sentence may change its words (a verdict flip).
check-determinism: $(STAMP) $(MATHJAX)
	$(BIN)/python scripts/check_determinism.py

# A/A comparisons on this machine, quiet and with one core busy: how lecture_utils.NOISE_THRESHOLD was chosen.
noise-threshold: $(STAMP)
	$(BIN)/python scripts/noise_threshold.py

clean:
	rm -rf $(BUILD)/html $(BUILD)/jupyter_execute $(BUILD)/.doctrees

clean-cache: clean
	rm -rf $(BUILD)
