# genlab: two commands set everything up on a fresh machine.
#   make report   venv + install + run the notebook series (CI-sized) -> reports/report.html + reports/results.json
#   make test     venv + install + unit tests, doctests and every notebook under nbval (what CI runs)
#   make report-full   the study notebooks at full size (hours) -> results/full_size/; resumes where it stopped
#   make speech-model / image-model   build the speech and image tracks' models (about an hour each; resumable)
#   make system-packages   espeak-ng and Chromium (the series and the browser test need them); test and report run it first
# Torch: TORCH_SPEC is installed first. torch==2.13.0 resolves to the CPU wheel on this project's machines and to
# PyPI's normal build (CUDA on Linux) elsewhere; override with e.g. `make test TORCH_SPEC="torch==2.14.*"`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.genlab-installed

export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export HF_EVALUATE_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export TOKENIZERS_PARALLELISM := false
export HF_DATASETS_DISABLE_PROGRESS_BARS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# any connection to another machine raises inside tests and notebook kernels (see genlab/core/offline.py)
export GENLAB_FORBID_NETWORK := 1

.PHONY: install system-packages test report report-full lab lint format bench default-model speech-model image-model notebooks-clean clean help

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

$(STAMP): pyproject.toml
	@# installing needs the package registry: the network guard is for tests and notebooks only
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# The series' system packages: espeak-ng (the spoken world, notebook 60) and Debian's Chromium (tests/test_browser.py,
# driven through Playwright; `playwright install` never downloads a browser). Cheap when both are there; when one is
# missing it is installed with apt-get if we are root, and otherwise make stops at once with the command to run.
SYSTEM_PACKAGES_MISSING = $(strip $(if $(shell command -v espeak-ng 2>/dev/null),,espeak-ng) \
	$(if $(wildcard /usr/bin/chromium),,chromium))

system-packages:
ifneq ($(SYSTEM_PACKAGES_MISSING),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(SYSTEM_PACKAGES_MISSING) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES_MISSING) >/dev/null; \
	else \
		echo "missing system packages: $(SYSTEM_PACKAGES_MISSING). Install them, then run make again:" >&2; \
		echo "    sudo apt-get install -y $(SYSTEM_PACKAGES_MISSING)" >&2; \
		echo "(elsewhere, your system's package manager, e.g. brew install $(SYSTEM_PACKAGES_MISSING))" >&2; \
		exit 1; \
	fi
endif

test: $(STAMP) system-packages
	TQDM_DISABLE=1 $(BIN)/python -m pytest tests genlab notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:randomly $(PYTEST_ARGS)

# One self-contained page (reports/report.html, opens offline), results.json beside it, a page per notebook and
# index.html. Fails if a notebook fails or writes unexpected stderr (library noise); the list says which and where.
report: $(STAMP) system-packages
	TQDM_DISABLE=1 $(BIN)/python -m genlab.report.series report --out reports

# The study notebooks with their full-size parameters (results/full_size/params.json; about 3 hours on 2 cores) ->
# results/full_size/<notebook>/: results.json, tables (CSV), figures (plotly JSON), the executed notebook and
# provenance.json. A notebook whose results match its current parameters and code is skipped, so an interrupted run
# resumes. FULL_ARGS: e.g. "--only 20 21", "--force", or "--check" (which results are missing or stale).
report-full: $(STAMP)
	TQDM_DISABLE=1 $(BIN)/python -m genlab.report.full $(FULL_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check genlab tests benchmarks notebooks
	$(BIN)/ruff format --check genlab tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format genlab tests benchmarks
	$(BIN)/ruff check --fix genlab tests benchmarks

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

default-model: $(STAMP)
	$(BIN)/python -m genlab.recipes.default_model build

# The speech and image tracks' models (about an hour each on 2 cores; checkpoints under build/, resumable).
speech-model: $(STAMP)
	$(BIN)/python -m genlab.recipes.speech_model build

image-model: $(STAMP)
	$(BIN)/python -m genlab.recipes.drawn_classifier build
	$(BIN)/python -m genlab.recipes.image_model build

notebooks-clean: $(STAMP)
	$(BIN)/python -m genlab.report.series strip
	$(BIN)/python -m genlab.report.series nav

clean:
	rm -rf reports build *.egg-info
