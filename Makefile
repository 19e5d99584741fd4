VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest

.PHONY: run test bench install browser clean

install: $(VENV)/.installed

# requirements-nodeps.txt: packages whose declared dependencies we do not want (torch); see the file.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	$(VENV)/bin/pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download a browser here).
browser:
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null) \
		|| (echo "Chromium is missing and could not be installed: the browser tests will fail"; exit 1))

run: install
	$(PY) -m config.devrun

test: install browser
	$(PYTEST) -q

bench: install
	$(PY) -m bench

clean:
	rm -rf .data/test-search .data/test-media
