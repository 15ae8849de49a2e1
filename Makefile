# loadshed: the two commands that matter are `make run` and `make test` (see README.md).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON ?= python3
VENV_STAMP := $(VENV)/.installed-$(shell sha1sum requirements-dev.txt | cut -c1-12)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

CARGO ?= cargo

# Deploy tools (SAM CLI, cargo-lambda, zig) share .venv but have their own pins and stamp.
DEPLOY_STAMP := $(VENV)/.deploy-$(shell sha1sum requirements-dev.txt requirements-deploy.txt | sha1sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
# SAM runs from infra/, next to template.yaml and samconfig.toml.
SAM := cd infra && SAM_CLI_TELEMETRY=0 sam
# A region for the offline checks; deploys use the profile's or samconfig.toml's.
CHECK_REGION ?= af-south-1
STACK ?= loadshed
LAMBDA_BINS := loadshed-stage loadshed-schedule loadshed-notify loadshed-webhook loadshed-web

.PHONY: help run test lint fmt build bench size fuzz tools web-tools web serve clean lambdas-alone
.PHONY: deploy-tools check-infra lambdas sam-build deploy set-webhook

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

tools: $(VENV_STAMP) ## Install the test tools (moto, cfn-lint) into .venv

# Installed together with requirements-dev.txt so pip resolves one consistent set.
$(DEPLOY_STAMP): requirements-dev.txt requirements-deploy.txt $(VENV_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-deploy.txt
	rm -f $(VENV)/.deploy-* && touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -f node_modules/.installed-* && touch $@

# The web pages' browser test (tests/web_pages.rs): Debian's Chromium, driven by playwright-core from npm.
CHROMIUM := /usr/bin/chromium
APT_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(APT_SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(APT_SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-liberation

web-tools: $(CHROMIUM) $(NODE_STAMP) ## Install headless Chromium (apt) and playwright-core (npm) for the browser test

deploy-tools: $(DEPLOY_STAMP) $(NODE_STAMP) ## Install SAM CLI, cargo-lambda, zig (.venv) and asl-validator (npm)

check-infra: $(VENV_STAMP) $(DEPLOY_STAMP) $(NODE_STAMP) ## Lint the SAM template and the state machines (no AWS account)
	cfn-lint infra/template.yaml
	$(SAM) validate --lint --region $(CHECK_REGION)
	$(CARGO) run --quiet --bin loadshed -- asl validate statemachine/refresh.asl.json --substitutions infra/template.yaml
	scripts/check-asl statemachine/*.asl.json

lambdas: $(DEPLOY_STAMP) ## Release builds of the five Lambda binaries for arm64 (cargo lambda)
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@# One function per build: cargo unifies the features of the packages one build names.
	for f in $(LAMBDA_BINS); do $(CARGO) lambda build --release --arm64 -p $$f --bin $$f || exit 1; done

sam-build: $(DEPLOY_STAMP) ## sam build: the functions as SAM deploys them (release builds, 10+ minutes)
	$(SAM) build

deploy: sam-build ## Deploy to AWS (guided the first time: asks for the parameters, saves them in infra/samconfig.toml)
	@if grep -q '^parameter_overrides' infra/samconfig.toml; then \
	  $(SAM) deploy; \
	else \
	  $(SAM) deploy --guided; \
	fi

set-webhook: ## Register the deployed webhook with Telegram and set the bot's commands (STACK=loadshed)
	$(CARGO) run --quiet --bin loadshed -- set-webhook --stack $(STACK)

run: ## The refresh workflow offline: real definition and handlers, recorded upstream, dry-run Telegram
	$(CARGO) run --quiet --bin loadshed -- refresh --offline

web: ## The public web pages of the offline demo on http://127.0.0.1:8080/ (PORT=8080)
	$(CARGO) run --quiet --bin loadshed -- web --offline --port $${PORT:-8080}

serve: ## The whole bot on this machine, recorded Eskom answers (TELEGRAM_BOT_TOKEN=..., DATA=.serve)
	$(CARGO) run --quiet --bin loadshed -- serve --offline --data $${DATA:-.serve}

test: tools web-tools check-infra ## Install what the tests need and run them all (unit, contract, corpus, conformance)
	@# Tests run the Lambda binaries; `cargo test` builds only their unit-test harnesses.
	$(CARGO) build --workspace --bins
	scripts/with-moto $(CARGO) nextest run --workspace --no-fail-fast --failure-output final
	$(MAKE) --no-print-directory lambdas-alone

lambdas-alone: tools ## Each function built alone, as deployed, started once against a local Runtime API
	@# The workspace builds above unify loadshed-core's and every dependency's features with the
	@# tests' (the SDK clients they set up with); a function built alone may lack one they turn on.
	mkdir -p target/alone
	for f in $(LAMBDA_BINS); do $(CARGO) build --quiet -p $$f && cp target/debug/$$f target/alone/ || exit 1; done
	COLD_START_RUNS=1 scripts/with-moto $(CARGO) run --quiet --example cold_start -- target/alone

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@# Each function alone, with only the loadshed-core features it enables (the workspace run has all).
	for f in $(LAMBDA_BINS); do $(CARGO) clippy --quiet -p $$f -- -D warnings; done

fmt: ## Format the code
	$(CARGO) fmt --all

build: ## Debug build of every crate (the Lambda release build is `make lambdas`)
	$(CARGO) build --workspace

bench: tools ## Benchmarks: ASL engine and validator (criterion); notify's broadcast rate (about 15 min); cold starts
	$(CARGO) bench -p asl --bench engine --bench validate
	scripts/with-moto $(CARGO) bench -p loadshed --bench broadcast
	@# One function per build, so each links only the loadshed-core features it enables.
	for f in $(LAMBDA_BINS); do $(CARGO) build --release -p $$f || exit 1; done
	scripts/with-moto $(CARGO) run --quiet --example cold_start

# The architecture `make size` builds for: arm64 as deployed, or x86_64 (this machine) to compare.
ARCH ?= arm64

size: $(DEPLOY_STAMP) ## Release build and deployment zip of each function (ARCH=arm64), against infra/lambda-size-budgets.tsv
	scripts/lambda-size --arch $(ARCH) $(LAMBDA_BINS)

fuzz: ## Every cargo-fuzz target for SECONDS each (default 60) or RUNS executions each (not in CI): make fuzz RUNS=10000000
	RUNS=$(RUNS) scripts/fuzz $(if $(RUNS),$(SECONDS),$(or $(SECONDS),60))

clean: ## Remove build output and the tool virtualenv
	$(CARGO) clean
	rm -rf $(VENV)
