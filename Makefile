# make run        - create .venv, install digitdraw (editable), serve http://127.0.0.1:7860
# make test       - also install the test tools, Debian's chromium and nginx, axe-core, then run every test
# make test-fast  - the edit loop: everything but the browser, server and long property tests
# make lint       - ruff
# make train / make evaluate / make bench - reproduce the weights, MODEL_CARD.md and PERFORMANCE.md

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
NPM := /usr/bin/npm

.PHONY: run test test-fast lint train evaluate bench

run: $(VENV)/.runtime
	$(PY) app.py $(ARGS)

test: $(VENV)/.dev $(CHROMIUM) $(NGINX) $(AXE)
	$(PY) -m pytest -rs

test-fast: $(VENV)/.dev
	$(PY) -m pytest -rs -m "not browser and not slow"

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

train: $(VENV)/.dev
	$(PY) -m training.train --data-dir ../shared/data/mnist --epochs 20 --mnist-repeat 1.5 --out weights/digitdraw.safetensors

evaluate: $(VENV)/.dev
	$(PY) -m training.evaluate
	$(PY) -m training.plots reports/evaluate.json

bench: $(VENV)/.dev $(CHROMIUM) $(NGINX)
	$(PY) -m benchmarks.engine
	$(PY) -m benchmarks.serving
	$(PY) -m benchmarks.serving --replicas 2
	$(PY) -m benchmarks.browser
	$(PY) -m benchmarks.cold_start
	$(PY) -m benchmarks.soak
	$(PY) -m benchmarks.hostile
	$(PY) -m benchmarks.classroom
	$(PY) -m benchmarks.learn
	$(PY) -m benchmarks.report

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q chromium

$(AXE): $(NPM)  # the browser tests' accessibility checks (axe-core, from npm)
	npm install --prefix $(VENV)/axe --no-save --no-audit --no-fund axe-core@4.14.1

$(NPM):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q npm

$(NGINX):  # deploy/nginx.conf is checked with `nginx -t`
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q nginx
