# make run   - create .venv, install the runtime, start the app on http://127.0.0.1:7860
# make test  - also install test tools and Debian's chromium, then run every test
# make train / make evaluate / make bench - reproduce the weights and the published numbers

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

.PHONY: run test train evaluate bench

run: $(VENV)/.runtime
	$(PY) app.py $(ARGS)

test: $(VENV)/.dev $(CHROMIUM)
	$(PY) -m pytest -rs

train: $(VENV)/.runtime
	$(PY) -m digitdraw.train --data-dir ../shared/data/mnist --epochs 18 --out weights/digitdraw.safetensors

evaluate: $(VENV)/.runtime
	$(PY) -m digitdraw.evaluate --json artifacts/evaluate.json --markdown artifacts/model_card.md

bench: $(VENV)/.dev $(CHROMIUM)
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/serving.py
	$(PY) benchmarks/browser.py
	$(PY) benchmarks/cold_start.py

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q chromium
