# promcontract: `make rules` before `terragrunt apply`, `make check` in CI, `make test`.
# Every target sets up what it needs: the virtualenv in .venv/ and, for check/test, the
# real promtool / prometheus / pushgateway (scripts/ensure-tools).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PC     := $(BIN)/promcontract

.PHONY: readme rules check test test-installed test-promtool3 bench corpus lint tools venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

tools:
	@scripts/ensure-tools

## rules: render every rules/*.contract.yaml into the values template and rules/generated/
## (promtool checks the result before anything is written)
rules: $(STAMP) tools
	$(PC) render
	$(PC) routes --derive
	@$(BIN)/python -c 'import sys; from promcontract.contract import schema; sys.exit(schema.main(sys.argv[1:]))' \
		--write schemas/metric-contract.schema.json

## check: CI lint step; fails when generated files are stale or promtool rejects the rules
check: $(STAMP) tools
	@mkdir -p build/junit
	$(PC) check --junit build/junit/promcontract-check.xml
	$(PC) lint
	$(PC) routes --derive --check --mutate --junit build/junit/promcontract-routes.xml
	$(PC) mutate
	$(BIN)/ruff check generator tests bench

## test: unit + integration tests (real promtool); JUnit XML in build/junit/
test: $(STAMP) tools
	@mkdir -p build/junit
	$(BIN)/python -m pytest -q -m "not installed" --junitxml=build/junit/pytest.xml $(PYTEST_ARGS)

## test-installed: build the wheel, install it in a fresh venv and run every command from it;
## run the pre-commit hooks as a user's repository does (pre-commit from PyPI)
test-installed: $(STAMP) tools
	@mkdir -p build/junit
	$(BIN)/python -m pytest -q -m installed --junitxml=build/junit/installed.xml $(PYTEST_ARGS)

## test-promtool3: the generated test files, the oracle property tests, mutation testing,
## characterization and the pinning property over drawn contracts
## on promtool 3.x
## (fetched from Debian unstable into build/promtool3 by scripts/fetch-promtool3)
test-promtool3: $(STAMP)
	@P3=$$(scripts/fetch-promtool3) && set -x && \
	"$$P3" test rules rules/generated/*.test.yml && \
	PROMTOOL="$$P3" $(BIN)/python -m pytest -q tests/test_properties.py tests/test_promtemplate.py \
		tests/test_mutate.py tests/test_characterize.py tests/test_pinning.py

## bench: speed figures (printed, never asserted)
# The README's kinds, checks and formats tables, from the plug-ins' own text.
readme: $(STAMP)
	$(BIN)/python -m promcontract.workflows.readme README.md

bench: $(STAMP) tools
	$(BIN)/python bench/run.py

## corpus: lint, characterize and import over ../shared/corpus (rule files written by other
## people; $$PROMCONTRACT_CORPUS elsewhere): crashes, characterized N/M, time and memory,
## lint precision against tests/fixtures/corpus_lint.yml; skipped when there is no corpus
corpus: $(STAMP) tools
	$(BIN)/python bench/corpus.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build
