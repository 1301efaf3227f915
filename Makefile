# The entry point people and CI share. `make contract` runs the contract suite (against the
# embedded reference service unless CONTRACT_BASE_URL is set); `make test` runs the tests.

CARGO ?= cargo
PAGE := spec/intune-apps-mobileappinstallstatus-update.md
OVERLAY := spec/overlay.json

.PHONY: contract test check schemas check-schemas check-docs serve bench install

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

bench:
	$(CARGO) bench --locked --bench validation
	$(CARGO) run --locked --release --quiet --example bench_report

install:
	$(CARGO) install --locked --path .
