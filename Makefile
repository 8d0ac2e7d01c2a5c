# The make targets are the interface; see README.md.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every recipe runs on the Node.js major in .nvmrc or newer: the machine's node when it is new enough,
# else the one pinned in scripts/node, which scripts/node/install.sh puts in .tools/node. It comes
# first on PATH, so npm, tsx, the test runner and every process they start run on it.
NODE_MAJOR := $(shell cat .nvmrc)
ifneq ($(shell node -e 'process.exit(+(process.versions.node.split(".")[0] < $(NODE_MAJOR)))' 2>/dev/null && echo ok),ok)
export PATH := $(CURDIR)/.tools/node/node_modules/.bin:$(PATH)
LOCAL_NODE := local-node
endif

TEST_ENV := node --import tsx scripts/test-env/main.ts
NODE_TEST := node --conditions=source --import tsx --test --test-reporter=spec
UNIT_TESTS = $(shell find services operator -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# test/e2e needs a whole cluster: `make e2e` runs it, `make test` does not.
INTEGRATION_TESTS = $(shell find test -name '*.test.ts' -not -path 'test/e2e/*' | sort)
# The route and SDK suites that cover both backends and the contract checks that run no tool (the fuzzer
# does): test-fast runs them on the embedded backend alone, two files at a time.
FAST_TESTS = $(shell grep -l 'of stackBackends' test/api/*.test.ts test/sdk/*.test.ts | sort) \
	$(shell grep -L 'runTool' test/contract/*.test.ts | sort)

# The images `make image` writes and `make e2e` imports into the cluster's containerd.
IMAGE := ghcr.io/stowage/stowage:$(shell sed -n "s/^appVersion: '\(.*\)'/\1/p" charts/stowage/Chart.yaml)
PAUSE_IMAGE := stowage.local/pause:$(shell sed -n 's/^KUBERNETES_VERSION=//p' scripts/tool-versions.env)

.PHONY: help deps tools tools-cluster image e2e env test test-fast test-unit lint format build sdk-types dev clean bench-upload-memory bench-variants bench-operator load-test soak bench faults

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.PHONY: local-node
local-node:
	@scripts/node/install.sh

node_modules/.package-lock.json: package.json package-lock.json $(wildcard */package.json services/*/package.json) | $(LOCAL_NODE)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.package-lock.json ## install npm dependencies (npm ci)

tools: ## install the servers and tools the tests need (cached in .tools/)
	@scripts/install-tools.sh

tools-cluster: ## also install a one-node cluster's binaries (containerd, kubelet, CoreDNS...) for make e2e
	@scripts/install-tools.sh --cluster

image: deps tools-cluster ## build the Stowage and pause images as docker archives in dist/images (no daemon)
	@node --import tsx scripts/image/main.ts --name $(IMAGE) --pause .tools/bin/pause --pause-name $(PAUSE_IMAGE)

e2e: ## root on a disposable machine (STOWAGE_E2E=1): a one-node cluster, helm install, the journey
	@scripts/e2e/cluster.sh --check
	@$(MAKE) --no-print-directory image
	@scripts/e2e/cluster.sh -- $(NODE_TEST) --test-concurrency=1 test/e2e/*.test.ts

env: deps tools ## start the test servers on loopback and print their settings; Ctrl-C stops them
	@$(TEST_ENV)

test: deps tools lint ## install tools, start the test servers, run every test
	@$(TEST_ENV) -- $(NODE_TEST) $(UNIT_TESTS) $(INTEGRATION_TESTS)

faults: deps tools ## the fault-injection suite, long: STOWAGE_FAULTS_ROUNDS (default 30), STOWAGE_FAULTS_SEED to replay
	@$(TEST_ENV) -- env STOWAGE_FAULTS_ROUNDS=$${STOWAGE_FAULTS_ROUNDS:-30} $(NODE_TEST) test/faults/*.test.ts

test-fast: deps ## the route suites and contract checks on the embedded backend: no servers, no tools
	@STOWAGE_TEST_BACKENDS=embedded $(NODE_TEST) --test-concurrency=2 $(FAST_TESTS)

test-unit: deps ## unit tests only (no servers)
	@$(NODE_TEST) $(UNIT_TESTS)

lint: deps ## type-check, lint and check formatting
	@npm run --silent lint

format: deps ## format every file
	@npm run --silent format

build: deps ## compile TypeScript to dist/
	@npm run --silent build

sdk-types: deps ## write the API's OpenAPI document to services/sdk and generate the SDK's types from it
	@node --conditions=source --import tsx scripts/openapi.ts > services/sdk/openapi.json
	@npx openapi-typescript services/sdk/openapi.json -o services/sdk/src/generated/api.ts

dev: deps ## run the whole platform on embedded defaults (PORT, STOWAGE_DATA_DIR)
	@npm start --silent

bench: build tools ## Stowage side by side with direct S3, a relay, the variant function (and Node 20); rewrites BENCHMARKS.md
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/bench.ts

bench-upload-memory: build tools ## stream a multi-GiB upload through the API, record peak RSS in BENCHMARKS.md
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/upload-memory.ts

bench-variants: deps tools ## variants per second through the worker against the variant function alone, in BENCHMARKS.md
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/variants-throughput.ts

bench-operator: deps tools ## time for the operator to make 200 StorageTenants Ready, in BENCHMARKS.md
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/operator-scale.ts

load-test: deps tools ## k6 load tests against 2 APIs, a worker, PostgreSQL, Redis and MinIO; fails on thresholds
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/load-test.ts

soak: build tools ## k6 mixed traffic for SOAK_MINUTES (30) at SOAK_RATE/s (40): RSS, fds, event loop, DB in BENCHMARKS.md
	@$(TEST_ENV) -- node --conditions=source --import tsx load-tests/soak.ts

clean: ## remove build output (keeps the cached tools)
	rm -rf services/*/dist operator/dist *.tsbuildinfo dist
