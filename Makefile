# Cairn: the commands a newcomer and CI need. See README.md.
.PHONY: install build run test typecheck lint format unit fuzz bench bench-quick clean

NODE_MODULES := node_modules/.package-lock.json

$(NODE_MODULES): package.json package-lock.json
	npm ci
	@touch $@

install: $(NODE_MODULES)

build: install
	npm run build

# Everything end to end: cairn up (embedded nats-server when none answers), the examples,
# a local webhook sink, and a few demo events.
run: build
	node scripts/demo.mjs

# Typecheck, lint, then every test with coverage gates.
test: install typecheck lint unit

typecheck: install
	npx tsc -p tsconfig.json --noEmit

lint: install
	npx eslint .
	npx prettier --check .

format: install
	npx prettier --write .

unit: install build
	npx tap --allow-incomplete-coverage --coverage-report=json-summary --coverage-report=text-summary
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
