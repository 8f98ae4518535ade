# The README's two commands: `make demo` (main job) and `make test` (tests). Both install first.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install demo test test-fast yamls

# torch is pinned and installed first: an unpinned torch pulls GBs of CUDA packages.
install:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"

demo: install
	aligncot run harness_configs/pipeline/demo.yaml

# Everything, slow end-to-end tests included (what CI runs).
test: install
	$(PYTHON) -m pytest -q -m "slow or not slow"

# The quick loop: the default suite without the slow tests.
test-fast:
	$(PYTHON) -m pytest -q

# Regenerate every task/group YAML from aligncot_tasks/suite.py.
yamls:
	$(PYTHON) -m aligncot_tasks.generate
