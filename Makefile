# 1min-relay: `make run` serves on 127.0.0.1:8787, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTRUCTOR_VENV := .venv-instructor
HOST ?= 127.0.0.1
PORT ?= 8787
# More than one runs that many daphne processes on one socket (relay_site/serve.py; needs REDIS_URL).
WEB_CONCURRENCY ?= 1

.PHONY: install install-test run test migrate simulator bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

run: migrate
ifeq ($(WEB_CONCURRENCY),1)
	$(PY) -m daphne -b $(HOST) -p $(PORT) relay_site.asgi:application
else
	$(PY) -m relay_site.serve -b $(HOST) -p $(PORT) --workers $(WEB_CONCURRENCY)
endif

install-test: $(VENV)/.test-installed $(INSTRUCTOR_VENV)/.installed

$(VENV)/.test-installed: requirements-test.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# instructor pins an older jiter than the openai in requirements-test.txt: its client gets its own
# virtualenv, driven by tests/frameworks/test_instructor.py (kept small: instructor and its deps only).
$(INSTRUCTOR_VENV)/.installed: tests/frameworks/requirements-instructor.txt
	test -x $(INSTRUCTOR_VENV)/bin/python || $(PYTHON) -m venv $(INSTRUCTOR_VENV)
	$(INSTRUCTOR_VENV)/bin/python -m pip install --quiet -r tests/frameworks/requirements-instructor.txt
	touch $@

test: install-test
	$(PY) tests/run_suites.py

# The 1min.ai simulator on its own, for trying the relay offline (see README).
simulator: install
	$(PY) -m tests.onemin_simulator --port $(or $(SIM_PORT),9100)

# The overhead benchmark: writes bench/reports/<date>-overhead.md with plots (see bench/).
bench: install $(VENV)/.bench-installed
	$(PY) -m bench.run

$(VENV)/.bench-installed: bench/requirements.txt
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-* var .pytest_cache
