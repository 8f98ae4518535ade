# aligncot: common commands. Works from a checkout without installing (PYTHONPATH), or installed.
PYTHON ?= python
RUN_DIR ?= runs/demo
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: demo demo-clean test test-all

## demo: the offline end-to-end run (tiny models, shipped data, ~5 min on 2 CPU cores)
demo:
	$(PYTHON) -m training run demo --run-dir $(RUN_DIR)

## demo-clean: remove the demo's run directory (the next `make demo` starts from scratch)
demo-clean:
	rm -rf $(RUN_DIR)

## test: the fast tests
test:
	$(PYTHON) -m pytest -q -m "not slow"

## test-all: every test, the end-to-end demo included
test-all:
	$(PYTHON) -m pytest -q
