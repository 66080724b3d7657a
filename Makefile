# Cairn: the commands a newcomer and CI need. See README.md.
.PHONY: install build run test test-faults test-scale test-browser test-bench typecheck lint format unit fuzz bench bench-quick clean

NODE_MODULES := node_modules/.package-lock.json

$(NODE_MODULES): package.json package-lock.json
	npm ci
	@touch $@

install: $(NODE_MODULES)

build: install
	npm run build

# Everything end to end: cairn up (a local nats-server when NATS_URL is unset and none answers
# at nats://127.0.0.1:4222), the examples, a local webhook sink, and a few demo events.
run: build
	node scripts/demo.mjs

# Typecheck, lint, then every test with coverage gates.
test: install typecheck lint unit

# The fault suite (test/faults/*.faults.ts, not part of `make test`): thousands of users through
# journeys while services are SIGKILLed, nats-server restarts, cluster nodes and stream leaders
# die and a destination fails, checked against the simulator. One scenario at a time, on a fresh
# build (the services run as processes from dist/). See docs/reliability.md.
test-faults: install build
	npx tap --disable-coverage --jobs=1 --timeout=600 test/faults/*.faults.ts

# Scale-out at full size (not part of `make test`): two processes of every stage against one
# nats-server, 10,000 users (CAIRN_SCALE_USERS) from a backlog, checked against the simulator.
# 7-13 minutes on a loaded 2-core host (load average 19-34). See docs/operations.md, "Running several replicas".
test-scale: install build
	CAIRN_SCALE_USERS=$${CAIRN_SCALE_USERS:-10000} npx tap --disable-coverage --timeout=1800 test/e2e/scale-out.test.ts

# The console's browser tests (test/browser/*.browser.ts, not part of `make test`): a real
# `cairn up` with real traffic, driven through Debian's Chromium (/usr/bin/chromium, or
# CAIRN_CHROMIUM) by playwright-core; they write the screenshots in docs/console-*.png.
test-browser: install build
	npx tap --disable-coverage --jobs=1 --timeout=600 test/browser/*.browser.ts

# The bench harness must keep working (not part of `make test`: nine scenarios take 2-4 min):
# test/bench/quick.bench.ts runs `bench --quick` and checks every scenario prints a finite figure.
test-bench: install build
	npx tap --disable-coverage --timeout=600 test/bench/quick.bench.ts

typecheck: install
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p console/tsconfig.json --noEmit

lint: install
	npx eslint .
	npx prettier --check .

format: install
	npx prettier --write .

# test/e2e/scale-out.test.ts runs here at 300 users; `make test-scale` runs it at 10,000.
unit: install build
	CAIRN_SCALE_USERS=$${CAIRN_SCALE_USERS:-300} npx tap --allow-incomplete-coverage --coverage-report=json-summary --coverage-report=text-summary
	node scripts/coverage-gate.mjs

# The property-based tests (test/**/*.property.test.ts) with many more runs than in `make test`
# (CAIRN_FUZZ_RUNS, default 5000); CAIRN_FUZZ_SEED picks another seed than the fixed one.
fuzz: install build
	CAIRN_FUZZ_RUNS=$${CAIRN_FUZZ_RUNS:-5000} npx tap --disable-coverage --timeout=3600 'test/**/*.property.test.ts'

bench: build
	node dist/bench/main.js

bench-quick: build
	node dist/bench/main.js --quick

clean:
	rm -rf dist coverage .tap
