# The two commands: `make build` (the main job) and `make test` (the tests).
# Both create .venv when missing and install the pinned dependencies once.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SPARK_STAMP := $(VENV)/.spark-installed-stamp
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed-stamp
DEFAULT_RAW_DIR := data/raw

export JOURNEYS_RAW_DIR ?= $(DEFAULT_RAW_DIR)
export JOURNEYS_DUCKDB ?= data/journeys.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export PYTHONHASHSEED := 0
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: build test bench bench-scale bench-service bench-swap bench-publish bi synth lint clean categories figures experiments

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# The `spark` extra (dbt-spark, pyspark) for the Spark parity test; Spark needs a Java runtime.
$(SPARK_STAMP): $(STAMP)
	@command -v java >/dev/null || (apt-get update && apt-get install -y default-jre-headless)
	$(BIN)/python -m pip install -qq -c constraints.txt -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

# Apache Superset in a virtual environment of its own (its pins clash with the project's).
$(BI_STAMP): bi/requirements.txt bi/constraints.txt
	@test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install -qq --upgrade pip
	$(BI_VENV)/bin/python -m pip install -qq -c bi/constraints.txt -r bi/requirements.txt
	@touch $(BI_STAMP)

# Generates the synthetic export only when the default raw folder is empty: a real export
# pointed to by JOURNEYS_RAW_DIR is never overwritten. It writes page_events.csv too (sessions, path marts,
# long sequences); SYNTH_ARGS=--no-events leaves it out (the 4-slot history alone).
synth: $(STAMP)
	@if [ "$(JOURNEYS_RAW_DIR)" = "$(DEFAULT_RAW_DIR)" ] && [ -z "$$(ls -A $(DEFAULT_RAW_DIR) 2>/dev/null)" ]; then \
		$(BIN)/journeys synth --out $(DEFAULT_RAW_DIR) --seed 0 $(SYNTH_ARGS); \
	fi

# dbt build into a staging copy of the warehouse, published only when every error-severity test passed.
build: synth
	$(BIN)/journeys build
	$(BIN)/journeys report

# The analyst's loop after editing seeds/url_categories.csv: the seeds, the URL layer and the
# coverage marts only (no model training; the staged export of the last build is reused unless the
# raw files are newer), then coverage, top unmapped URLs, idle rules and what changed since the
# previous build. A broken rule stops it at the seed's test, with one line naming the rule.
categories: synth
	@selector="$$($(BIN)/journeys categories prepare)" && echo "dbt build --selector $$selector" && \
		$(BIN)/journeys build --quiet --selector $$selector
	@$(BIN)/journeys categories report

# Superset on 127.0.0.1:$JOURNEYS_BI_PORT (8088) over the published warehouse, with the Customer journeys
# dashboard (bi/dashboard.yml); user admin, password $JOURNEYS_BI_PASSWORD (required). Ctrl-C stops it.
bi: $(BI_STAMP)
	$(BI_VENV)/bin/python bi/run.py

test: $(STAMP) $(SPARK_STAMP) $(BI_STAMP)
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/pytest

# The experiment grid of the spec's earlier analysis (sequence length x encoding x model) into
# propensity_experiments;
# needs a built warehouse (make build), prints the table.
experiments: $(STAMP)
	$(BIN)/journeys build -s propensity_experiments --vars '{journeys_experiments: true}'
	@$(BIN)/journeys figures --experiments

# README's results tables, printed from the last build's model_metrics.
figures: $(STAMP)
	@$(BIN)/journeys figures

# k-prototypes against kmodes, then the default export (seed 0, with page_events.csv) built as a first
# `make build` does and as the next day's build does (a day of events appended, the saved models scoring).
bench: $(STAMP)
	$(BIN)/python scripts/bench_kprototypes.py
	$(BIN)/python scripts/bench_scale.py --scale 1 --events --seed 0 --folder data/bench-build

# The whole build (synth, dbt build, report) at SCALE x the spec's 336,955 contacts in data/bench-scale:
# per-step time and peak memory, growth from 1x (1x runs first when its results are missing);
# UNCAPPED=1 then retrains without the training caps and compares ARI and ROC AUC; the export is
# written without page_events.csv (the 4-slot history alone), EVENTS=1 adds it and then measures the next
# day's build (a day of events appended, the event models incremental, the saved models scoring).
SCALE ?= 10
bench-scale: $(STAMP)
	$(BIN)/python scripts/bench_scale.py --scale $(SCALE) $(if $(UNCAPPED),--uncapped) $(if $(EVENTS),--events)

# The scoring service under load on 127.0.0.1, over the last build's DuckDB file and artifacts (about 3 min).
bench-service: $(STAMP)
	$(BIN)/python scripts/bench_service.py

# Retrain, rollback, a corrupt version and 20 swaps under a running service, over a copy of the last build.
bench-swap: $(STAMP)
	$(BIN)/python scripts/bench_swap.py

# Write-audit-publish on whole builds at PUBLISH_SCALE x 336,955 contacts: staging and publish time and disk,
# readers through the builds, a failing test and a kill at 45 s (EVENTS=1 adds page_events.csv).
PUBLISH_SCALE ?= 1
bench-publish: $(STAMP)
	$(BIN)/python scripts/bench_publish.py --scale $(PUBLISH_SCALE) $(if $(EVENTS),--events)

lint: $(STAMP)
	$(BIN)/ruff check journeys pytests python_models scripts

clean:
	rm -rf target logs data artifacts
