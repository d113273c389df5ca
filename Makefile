# Refinery: `make run` starts the app, `make test` runs the whole suite. Both set up everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.txt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install browser models-default models-weak bench-llama-cpp

# Reinstall only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	cat requirements.txt requirements-nodeps.txt > $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers offline).
browser:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

models-weak: install
	$(PY) app.py models install smollm2-135m

models-default: install
	$(PY) app.py models install smollm2-135m qwen2.5-coder-1.5b

run: models-default
	$(PY) app.py serve

test: models-weak browser
	$(PY) -m pytest

# Optional: llama.cpp for bench/generate.py's comparison, built here from PyPI's source (minutes); not needed by run or test.
bench-llama-cpp: install
	CMAKE_ARGS="-DGGML_NATIVE=ON" $(PY) -m pip install --disable-pip-version-check llama-cpp-python==0.3.36
