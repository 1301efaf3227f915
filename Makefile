# The entry point people and CI share. `make contract` runs the contract suite (against the
# embedded reference service unless CONTRACT_BASE_URL is set); `make test` runs the tests.

CARGO ?= cargo
PAGE := spec/intune-apps-mobileappinstallstatus-update.md
OVERLAY := spec/overlay.json

.PHONY: contract test check schemas check-schemas check-docs serve bench bench-scale bench-build install validate-openapi interop

contract:
	$(CARGO) run --locked --release --quiet -- run

# Every test, with cargo alone (no Python: .ci/run proves it by hiding python from PATH). The
# export is validated against the vendored official OpenAPI 3.1 schema by tests/openapi_export.rs.
test:
	$(CARGO) test --locked

# Optional: the Python reference validator over the export (needs python3 with pip).
validate-openapi:
	PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator
	$(CARGO) run --locked --quiet -- openapi > target/openapi.json
	python3 -m openapi_spec_validator target/openapi.json

# Optional (not part of test or CI): Schemathesis 4.32.5, pinned, in a venv under target/,
# runs --checks all through the export against the reference service (needs python3 and PyPI).
interop:
	CARGO=$(CARGO) .ci/interop

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

# The figures of BENCHMARKS.md: the tests of the report's own measuring tools, the divan
# validation bench, then the table (figures 3, 5, 6 and 7 spawn the release binary, so it is
# built first). About 3 minutes, most of it the 100,000-case run and the 20 ms latency runs.
bench:
	$(CARGO) test --locked --example bench_report
	$(CARGO) bench --locked --bench validation
	$(CARGO) build --locked --release --bin graph-contract
	$(CARGO) run --locked --release --quiet --example bench_report

# Only the scale figures of issues 11 and 12 (5: memory, 6: two writes, 7: latency and objects,
# 8: page load), e.g. after a merge.
bench-scale:
	$(CARGO) build --locked --release --bin graph-contract
	BENCH_ONLY=5,6,7,8 $(CARGO) run --locked --release --quiet --example bench_report

# As bench, plus a clean `cargo build --release --timings` in target/bench-clean (minutes).
bench-build:
	$(CARGO) build --locked --release --bin graph-contract
	BENCH_CLEAN_BUILD=1 $(CARGO) run --locked --release --quiet --example bench_report

install:
	$(CARGO) install --locked --path .
