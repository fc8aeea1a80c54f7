# Every target installs what it needs first (a venv from requirements-dev.txt, the pinned
# CDK CLI from package-lock.json). `make help` lists them.

SHELL := /bin/bash
STAGE ?= dev
PORT ?= 4566
# Extra CDK context for synth and deploy: CONTEXT="contracts=examples/contracts key=value".
CONTEXT ?=
CONTEXT_ARGS = $(foreach item,$(CONTEXT),--context $(item))
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
LOCAL_ENV := AWS_ENDPOINT_URL=http://localhost:$(PORT) AWS_ACCESS_KEY_ID=test \
	AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1

# Quiet, offline CDK runs: no jsii Node banner, no telemetry, no Node warnings.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export NODE_NO_WARNINGS := 1

.PHONY: help install browser demo test test-unit test-functional test-e2e lint format synth diff deploy destroy \
	local-up local-down local-status local-deploy local-diff local-destroy bench clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

NODE_EXAMPLE := examples/node_consumer/handler

# The AWS CLI the end-to-end tier calls the local AWS with, as a user would (`aws lambda
# invoke`), in a venv of its own: each awscli release pins one botocore, older than the one
# the project's boto3 resolves to.
AWSCLI_VENV := .awscli
AWSCLI_VERSION := 1.45.64

install: $(VENV)/.installed node_modules/.installed $(NODE_EXAMPLE)/node_modules/.installed $(AWSCLI_VENV)/.installed browser ## venv, pinned CDK CLI, the Node example's dependencies, the AWS CLI, Chromium

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(AWSCLI_VENV)/.installed:
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check awscli==$(AWSCLI_VERSION)
	touch $@

# Debian's Chromium for the console's browser tests, where missing (scripts/install-browser.sh).
browser:
	@scripts/install-browser.sh

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(NODE_EXAMPLE)/node_modules/.installed: $(NODE_EXAMPLE)/package.json $(NODE_EXAMPLE)/package-lock.json
	npm ci --prefix $(NODE_EXAMPLE) --no-audit --no-fund --loglevel=error
	touch $@

demo: install ## the whole loop on the embedded local AWS: deploy, publish, read back, destroy
	@STAGE=$(STAGE) PORT=$(PORT) scripts/demo.sh

test: install ## every tier: unit, functional and end-to-end (needs no AWS account)
	$(PY) -m pytest

test-unit: install ## templates, stage rules, envelope, security checks (no AWS at all)
	$(PY) -m pytest tests/unit

test-functional: install ## handlers, publisher, replay, CLI, moto fixes under in-process moto
	$(PY) -m pytest tests/functional

test-e2e: install ## end-to-end: moto_server + the real CDK CLI
	$(PY) -m pytest tests/e2e

lint: install ## ruff lint and format check, mypy (strict) on event_stream/ and lambda_src/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

synth: install ## cdk synth STAGE=...
	$(CDK) synth --context stage=$(STAGE) $(CONTEXT_ARGS)

diff: install ## cdk diff STAGE=... (real AWS)
	$(CDK) diff --context stage=$(STAGE)

deploy: install ## cdk deploy STAGE=... to real AWS (your credentials and region)
	$(CDK) deploy --context stage=$(STAGE) $(CONTEXT_ARGS) --require-approval broadening

destroy: install ## cdk destroy STAGE=... on real AWS
	$(CDK) destroy --context stage=$(STAGE) --force

local-up: install ## start the embedded local AWS on localhost:PORT
	$(PY) -m event_stream local up --port $(PORT)

# `local down|status` act on the one on PORT when PORT is given (make local-down PORT=4850),
# else on the one this folder started.
PORT_OPTION = $(if $(filter command line,$(origin PORT)),--port $(PORT))

local-down: install ## stop it
	$(PY) -m event_stream local down $(PORT_OPTION)

local-status: install ## what it runs: mappings, their backlog and errors, the lake's delivery
	$(PY) -m event_stream local status $(PORT_OPTION)

local-deploy: install ## bootstrap + deploy STAGE=... to the local AWS
	$(LOCAL_ENV) $(CDK) bootstrap aws://123456789012/us-east-1 >/dev/null
	$(LOCAL_ENV) $(CDK) deploy --context stage=$(STAGE) $(CONTEXT_ARGS) --method=direct --require-approval never

# A template diff: the default first creates a change set, which the local AWS's
# CloudFormation cannot answer, and falls back to this after a long wait.
local-diff: install ## cdk diff STAGE=... against the local AWS (no change set)
	$(LOCAL_ENV) $(CDK) diff --context stage=$(STAGE) --method=template

local-destroy: install ## destroy STAGE=... on the local AWS
	$(LOCAL_ENV) $(CDK) destroy --context stage=$(STAGE) --force

bench: install ## measure asset size, cold start, envelope cost, throughput, synth, shard spread
	$(PY) bench/run.py

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache .hypothesis
