# loadshed: the two commands that matter are `make run` and `make test` (see README.md).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON ?= python3
VENV_STAMP := $(VENV)/.installed-$(shell sha1sum requirements-dev.txt | cut -c1-12)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

CARGO ?= cargo

.PHONY: help run test lint fmt build bench tools clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

tools: $(VENV_STAMP) ## Install the test tools (moto, cfn-lint) into .venv

run: ## The refresh workflow offline: real definition and handlers, recorded upstream, dry-run Telegram
	$(CARGO) run --quiet --bin loadshed -- refresh --offline

test: tools ## Install what the tests need and run them all (unit, contract, corpus, conformance)
	scripts/with-moto $(CARGO) nextest run --workspace --no-fail-fast --failure-output final

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

build: ## Debug build of every crate (the Lambda release build is `make lambdas`)
	$(CARGO) build --workspace

bench: ## Criterion benchmarks (ASL engine and validator)
	$(CARGO) bench -p asl

clean: ## Remove build output and the tool virtualenv
	$(CARGO) clean
	rm -rf $(VENV)
