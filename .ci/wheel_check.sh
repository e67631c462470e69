#!/usr/bin/env bash
# The toolkit works from a built wheel, not only from the clone: `python -m build` (the sdist, then the
# wheel built from it, so MANIFEST.in and setup.py's data step are both exercised), installed with
# --no-deps into a fresh venv that borrows torch & co. from the system site-packages, then run from a
# folder outside the repository: --version, the quickstart's dry run (which loads every stage type), and
# a tiny pipeline that ingests a corpus, registers a model and scores it (SQL from the wheel's
# datacomp/_data/queries).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset PYTHONPATH DATACOMP_QUERIES   # the wheel's own files, not the clone's
step() { echo "wheel check [${SECONDS}s]: $*"; }

step "venv"
"$PYTHON" -m venv --system-site-packages "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check "setuptools>=77" wheel build
step "python -m build"
# --no-isolation: the venv's setuptools builds it (an isolated build downloads one per run: ~40 s more)
if ! "$py" -m build --no-isolation --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1; then
  cat "$work/build.log"; exit 1
fi
"$py" -m pip install --quiet --disable-pip-version-check --no-deps "$work"/dist/datacomp-*.whl

step "run from $work/run"
mkdir "$work/run" && cd "$work/run"
datacomp="$work/venv/bin/datacomp"
installed="$("$py" -c 'import datacomp, pathlib; print(pathlib.Path(datacomp.__file__).parent)')"
case "$installed" in "$work"/venv/*) ;; *) echo "wheel check: datacomp imported from $installed, not the venv"; exit 1;; esac
"$datacomp" --version
"$datacomp" run "$repo/pipelines/quickstart.toml" --dry-run --db "$work/run/quickstart.duckdb" >/dev/null

step "tiny pipeline: ingest, add_model, score"
# A tiny corpus and a tiny random LM (the tests' builder), then ingest -> add_model -> score.
"$py" -c "
import json, sys
sys.path.insert(0, '$repo/tests')
from conftest import build_tiny_lm
build_tiny_lm('$work/run/lm')
with open('$work/run/docs.jsonl', 'w') as out:
    for i in range(6):
        out.write(json.dumps({'text': f'Document {i}: the quick brown fox jumps over the lazy dog {i} times.'}) + '\n')
"
cat > tiny.toml <<TOML
[pipeline]
name = "wheel-check"

[[stage]]
name = "docs"
type = "ingest"
corpus = "tiny"
paths = ["$work/run/docs.jsonl"]

[[stage]]
name = "lm"
type = "add_model"
path = "$work/run/lm"
model_name = "tiny"

[[stage]]
name = "score"
type = "score"
corpora = "@docs"
model = "@lm"
window = 32
TOML
"$datacomp" run tiny.toml --db "$work/run/tiny.duckdb" >/dev/null
scored="$("$py" -c "import duckdb; print(duckdb.connect('$work/run/tiny.duckdb', read_only=True).execute('SELECT count(DISTINCT doc_id) FROM scores').fetchone()[0])")"
[ "$scored" = 6 ] || { echo "wheel check: expected 6 scored documents, found $scored"; exit 1; }
step "done: built, installed and ran outside the clone (6 documents ingested and scored)"
