# shai developer entry points. The README names `make lab` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

UV        = $(shell scripts/uv.sh 2>/dev/null || echo uv)
PY312     = $(shell scripts/python312.sh)
RUN       = $(UV) run --frozen --python $(PY312)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
# Shared test data (sealed-secrets vectors, upstream CRDs) lives beside the checkout in shared/.
SHARED ?= $(firstword $(wildcard $(CURDIR)/../shared /work/shared))
ifneq ($(SHARED),)
export SHAI_SHARED_TESTDATA ?= $(SHARED)/testdata
export SHAI_SHARED_CRDS ?= $(SHARED)/crds
export SHAI_SHARED_CHARTS ?= $(SHARED)/charts
endif

.PHONY: help
help: ## list targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: bootstrap
bootstrap: ## the controller: uv, the Python environment, the collection link (no Debian packages)
	scripts/bootstrap.sh

.PHONY: bootstrap-lab
bootstrap-lab: ## the controller plus the lab and test tooling (Debian packages; root)
	scripts/bootstrap.sh --lab

.PHONY: collection
collection: bootstrap 
	mkdir -p .cache/collections/ansible_collections/vectorweight
	ln -sfn $(CURDIR) .cache/collections/ansible_collections/vectorweight/shai

.PHONY: tools
tools: bootstrap ## build the real peers (kubeseal, sealed-secrets controller, Ollama, kube-apiserver) from Go modules, cached
	tools/build.sh

.PHONY: lab
lab: collection bootstrap-lab ## THE MAIN JOB: bring up the local lab and run site.yml against it
	RUN="$(RUN)" scripts/lab-main.sh

.PHONY: lab-profile
lab-profile: collection bootstrap-lab ## converge the lab with per-task timing (top tasks and roles, JSON in tests/output/)
	mkdir -p tests/output
	$(RUN) shai lab run-site --profile tests/output/converge-profile.json

.PHONY: lab-down
lab-down: bootstrap-lab ## tear the lab down
	$(RUN) shai lab down

.PHONY: lint
lint: collection ## ansible-lint (production), yamllint, ruff, mypy, secret scan
	$(RUN) yamllint -s .
	$(RUN) ruff check src tests benchmarks gitops
	$(RUN) ruff format --check src tests benchmarks gitops
	$(RUN) mypy
	$(RUN) ansible-lint --profile production --offline
	scripts/doc-check.sh
	$(RUN) antsibull-changelog lint
	$(RUN) shai-secrets scan .

.PHONY: sanity
sanity: collection bootstrap-lab ## ansible-test sanity (offline pip bootstrap)
	scripts/sanity.sh

.PHONY: unit
# The unit stage mostly waits on subprocesses (ansible-playbook, kube-apiserver, helm, ollama):
# pytest-xdist runs it on this many workers, whole files per worker (module fixtures stay shared).
UNIT_WORKERS ?= 3

unit: collection tools ## pytest: unit + integration tests against real peers (no lab hosts)
	SHAI_REQUIRE_PEERS=1 $(RUN) pytest -q --durations=30 -n $(UNIT_WORKERS) --dist loadfile -m "not lab" tests

.PHONY: labtests
labtests: collection bootstrap-lab tools ## pytest tests that boot lab hosts (lab, drift matrix, models sync)
	scripts/lab-artifacts.sh
	SHAI_REQUIRE_PEERS=1 $(RUN) pytest -q --durations=30 -m lab tests

.PHONY: molecule
# Scenarios CI runs (in this order). Every scenario under extensions/molecule/ can be run with
# `scripts/molecule-all.sh NAME`; see docs/testing.md for the ones not (yet) in this list.
MOLECULE_SCENARIOS ?= default k3s_single k3s_agent k3s_ha git_server drift_schedule gpu_workstation argocd_bootstrap

.PHONY: molecule
molecule: collection bootstrap-lab tools ## the CI molecule scenarios on real lab hosts (converge, idempotence, verify)
	scripts/lab-artifacts.sh
	scripts/molecule-all.sh $(MOLECULE_SCENARIOS)

.PHONY: build
build: collection ## ansible-galaxy collection build + ansible-doc for every module
	scripts/build-check.sh

.PHONY: test
test: collection bootstrap-lab ## EVERYTHING: what CI runs (stages timed; labtests and molecule side by side)
	scripts/test-stages.sh

.PHONY: bench
bench: collection tools ## run every benchmark and print figures
	failed=""; for b in benchmarks/*.py; do echo "== $$b"; $(RUN) python $$b || failed="$$failed $$b"; done
	if [ -n "$$failed" ]; then echo "benchmarks that did not finish:$$failed" >&2; exit 1; fi

.PHONY: docs
docs: bootstrap ## regenerate role README variable tables from argument_specs
	.venv/bin/python scripts/roledoc.py

.PHONY: clean
clean: ## remove caches inside the tree (not the lab rootfs cache)
	rm -rf .cache .mypy_cache .ruff_cache .pytest_cache tests/output
