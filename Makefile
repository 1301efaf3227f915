# The entry point people and CI share. `make contract` runs the contract suite (against the
# embedded reference service unless CONTRACT_BASE_URL is set); `make test` runs the tests.

CARGO ?= cargo
PAGE := spec/intune-apps-mobileappinstallstatus-update.md
OVERLAY := spec/overlay.json

.PHONY: contract test check schemas check-schemas check-docs serve bench bench-build install

contract:
	$(CARGO) run --locked --release --quiet -- run

# Installs the OpenAPI reference validator the openapi test requires, then runs every test.
test:
	PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator
	GRAPH_CONTRACT_OPENAPI_VALIDATOR=require $(CARGO) test --locked

check:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(MAKE) test

# Regenerate schemas/ from the page and the overlay (never edit schemas/ by hand).
schemas:
	$(CARGO) run --locked --quiet -- derive $(PAGE) --overlay $(OVERLAY) --out schemas

# Proves schemas/ is what the page gives (the test suite checks the same without git).
check-schemas: schemas
	git diff --exit-code schemas/

check-docs:
	$(CARGO) run --locked --quiet -- check-docs $(PAGE) --overlay $(OVERLAY)

serve:
	$(CARGO) run --locked --release --quiet -- serve

# The four figures of BENCHMARKS.md: the divan validation bench, then the table of ratios
# (figure 3 spawns the release binary, so it is built first).
bench:
	$(CARGO) bench --locked --bench validation
	$(CARGO) build --locked --release --bin graph-contract
	$(CARGO) run --locked --release --quiet --example bench_report

# As bench, plus a clean `cargo build --release --timings` in target/bench-clean (minutes).
bench-build:
	$(CARGO) build --locked --release --bin graph-contract
	BENCH_CLEAN_BUILD=1 $(CARGO) run --locked --release --quiet --example bench_report

install:
	$(CARGO) install --locked --path .
