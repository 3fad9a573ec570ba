# Developer commands. `make check` runs scripts/test.sh, the README's test command and CI's (.ci/run):
# lint, types, spec, generated/ up to date, tests.
# Every target sets up .venv first (scripts/_venv.sh), so a fresh clone needs only Python 3.11+ and make.

VENV := bash -c 'source scripts/_venv.sh && "$$@"' --
PYTEST_ARGS ?= -q -p no:cacheprovider

.PHONY: check lint types test spec generated generate golden fix format

check:  ## everything CI checks, cheapest first (scripts/test.sh: lint, format, types, spec, generated, test)
	bash scripts/test.sh -q

lint:  ## ruff, rules from pyproject.toml (F and I), over the repo and generated/
	$(VENV) ruff check

types:  ## mypy --strict over generator/ and runtime/ (config in pyproject.toml)
	$(VENV) mypy

spec:  ## every spec transcription loads and validates
	$(VENV) ocpi-codegen validate

generated:  ## generated/ equals a fresh generation
	$(VENV) ocpi-codegen check

test:  ## the whole test suite
	$(VENV) python -m pytest tests $(PYTEST_ARGS)

generate:  ## rewrite generated/ from spec/ and templates/
	$(VENV) ocpi-codegen generate

golden:  ## rewrite tests/golden/ after an intended change of output
	$(VENV) python -m pytest tests --update-golden -k golden $(PYTEST_ARGS)

fix:  ## let ruff sort imports and drop unused ones
	$(VENV) ruff check --fix

format:  ## black over the hand-written Python (generated/ is formatted by the generator itself)
	$(VENV) black generator runtime tests bench scripts
