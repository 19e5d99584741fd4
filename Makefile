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

# Debian's Chromium and Firefox ESR for the browser tests (Playwright cannot download a
# browser here; it drives the stock Firefox over WebDriver BiDi), WebKitGTK's WebDriver and
# Xvfb for the widget's WebKit test (its MiniBrowser needs an X display), and nginx for
# tests/reliability/test_two_servers_behind_nginx.py (which starts its own nginx on a free
# loopback port; it never uses the system service). One apt-get call installs whichever is
# missing; installing needs root.
CHROMIUM := /usr/bin/chromium
FIREFOX := /usr/bin/firefox-esr
WEBKIT_DRIVER := /usr/bin/WebKitWebDriver
XVFB := /usr/bin/Xvfb
NGINX := /usr/sbin/nginx
browser:
	@missing=""; \
	test -x $(CHROMIUM) || missing="chromium fonts-dejavu-core"; \
	test -x $(FIREFOX) || missing="$$missing firefox-esr"; \
	test -x $(WEBKIT_DRIVER) || missing="$$missing webkit2gtk-driver"; \
	test -x $(XVFB) || missing="$$missing xvfb"; \
	test -x $(NGINX) || missing="$$missing nginx"; \
	test -z "$$missing" || ( (command -v apt-get >/dev/null && test "$$(id -u)" = 0 && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| (echo "Could not install $$missing (apt-get as root): the browser and nginx tests will fail"; exit 1))

run: install
	$(PY) -m config.devrun

test: install browser
	$(PYTEST) -q

bench: install
	$(PY) -m bench

clean:
	rm -rf .data/test-search .data/test-media
