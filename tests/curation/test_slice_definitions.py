"""Each shipped slice definition against an independent computation, params, idempotency, read-only SQL."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from datacomp.curation.definitions import load_definition, shipped_names
from datacomp.curation.readonly import read_only_connection
from datacomp.curation.slices import create_slice, list_slices, show_slice, slice_doc_ids, slice_members
from datacomp.errors import DatacompError

ENC = "enc-000000000000"


def enc_scored(docs):
    return docs[:-5]  # the fixture leaves the last 5 unscored under 'enc'


def test_every_shipped_definition_parses():
    assert {"score_quantile", "score_threshold", "gap_range", "gap_quantile", "length_range", "domain", "corpus",
            "random_sample"} <= set(shipped_names())
    for name in shipped_names():
        definition = load_definition(name)
        assert definition.shipped and definition.description, name


@pytest.mark.parametrize("lo,hi", [(0.0, 0.25), (0.25, 0.5), (0.5, 1.0), (0.1, 0.9)])
def test_score_quantile_matches_numpy(scored_store, docs, lo, hi):
    scored = enc_scored(docs)
    values = np.array([d["entropy_enc"] for d in scored])
    q_lo, q_hi = np.quantile(values, lo), np.quantile(values, hi)
    expected = [d for d in scored if d["entropy_enc"] >= q_lo and (d["entropy_enc"] < q_hi or
                                                                   (hi == 1.0 and d["entropy_enc"] <= q_hi))]
    create_slice(scored_store, "q", "score_quantile", {"model": "enc", "lo": str(lo), "hi": str(hi)})
    members = slice_doc_ids(scored_store, "q")
    # Ranked by the score, ascending; the stale window-32 rows (value 99) are never used.
    assert members == [d["doc_id"] for d in sorted(expected, key=lambda d: d["entropy_enc"])]


def test_adjacent_quantile_ranges_partition_the_scored_documents(scored_store, docs):
    create_slice(scored_store, "low", "score_quantile", {"model": "enc", "hi": 0.5})
    create_slice(scored_store, "high", "score_quantile", {"model": "enc", "lo": 0.5})
    low, high = set(slice_doc_ids(scored_store, "low")), set(slice_doc_ids(scored_store, "high"))
    assert not low & high
    assert low | high == {d["doc_id"] for d in enc_scored(docs)}


def test_score_quantile_other_column_and_window(scored_store, docs):
    create_slice(scored_store, "s", "score_quantile",
                 {"model": ENC, "score_col": "surprisal_mean", "lo": 0.8, "window_len": 64})
    values = np.array([d["surprisal_enc"] for d in enc_scored(docs)])
    expected = {d["doc_id"] for d in enc_scored(docs) if d["surprisal_enc"] >= np.quantile(values, 0.8)}
    assert set(slice_doc_ids(scored_store, "s")) == expected


def test_score_threshold(scored_store, docs):
    create_slice(scored_store, "t", "score_threshold", {"model": "dec", "min": "1.8", "max": 2.5})
    expected = {d["doc_id"] for d in docs if 1.8 <= d["entropy_dec"] <= 2.5}
    assert set(slice_doc_ids(scored_store, "t")) == expected and expected


def test_gap_range(scored_store, docs):
    create_slice(scored_store, "g", "gap_range",
                 {"encoder": "enc", "decoder": "dec", "gap_col": "kl_dec_enc", "min": 0.9})
    assert set(slice_doc_ids(scored_store, "g")) == {d["doc_id"] for d in docs if 3 * d["js"] >= 0.9}


@pytest.mark.parametrize("lo,hi", [(0.0, 0.3), (0.3, 1.0)])
def test_gap_quantile_matches_numpy(scored_store, docs, lo, hi):
    values = np.array([d["js"] for d in docs])
    q_lo, q_hi = np.quantile(values, lo), np.quantile(values, hi)
    expected = [d for d in docs if d["js"] >= q_lo and (d["js"] < q_hi or (hi == 1.0 and d["js"] <= q_hi))]
    create_slice(scored_store, "gq", "gap_quantile", {"encoder": "enc", "decoder": "dec", "lo": lo, "hi": hi})
    assert slice_doc_ids(scored_store, "gq") == [d["doc_id"] for d in sorted(expected, key=lambda d: d["js"])]


def test_length_range(scored_store, docs):
    create_slice(scored_store, "l", "length_range", {"min": 100, "max": 300, "corpus": "c1"})
    expected = [d for d in docs if 100 <= d["n_chars"] <= 300 and d["corpus"] == "c1"]
    members = slice_members(scored_store, "l")
    assert {m["doc_id"] for m in members} == {d["doc_id"] for d in expected}
    assert [m["n_chars"] for m in members] == sorted(d["n_chars"] for d in expected)


def test_domain_and_corpus(scored_store, docs):
    create_slice(scored_store, "d", "domain", {"domains": "code,literature"})
    assert set(slice_doc_ids(scored_store, "d")) == {d["doc_id"] for d in docs if d["domain"] != "encyclopedic"}
    create_slice(scored_store, "c", "corpus", {"corpora": ["c2"]})
    assert set(slice_doc_ids(scored_store, "c")) == {d["doc_id"] for d in docs if d["corpus"] == "c2"}


def test_random_sample_is_the_md5_order_and_respects_within(scored_store, docs):
    create_slice(scored_store, "r", "random_sample", {"size": 7, "seed": 3})
    by_draw = sorted(docs, key=lambda d: hashlib.md5(f"3:{d['doc_id']}".encode()).hexdigest())
    assert slice_doc_ids(scored_store, "r") == [d["doc_id"] for d in by_draw[:7]]
    create_slice(scored_store, "code", "domain", {"domains": "code"})
    create_slice(scored_store, "r_code", "random_sample", {"size": 5, "seed": 3, "within": "code"})
    in_code = [d for d in by_draw if d["domain"] == "code"]
    assert slice_doc_ids(scored_store, "r_code") == [d["doc_id"] for d in in_code[:5]]
    create_slice(scored_store, "r_other_seed", "random_sample", {"size": 7, "seed": 4})
    assert slice_doc_ids(scored_store, "r_other_seed") != slice_doc_ids(scored_store, "r")


def test_list_show_and_record(scored_store):
    create_slice(scored_store, "d", "domain", {"domains": "code"})
    [row] = list_slices(scored_store)
    assert row["slice_id"] == "d" and row["n_members"] == 20 and row["definition"] == "domain"
    shown = show_slice(scored_store, "d", limit=3)
    assert shown["domains"][0]["domain"] == "code" and len(shown["head"]) == 3
    runs = scored_store.rows("runs/list", {"limit": 5})
    assert runs[0]["stage"] == "slice" and json.loads(runs[0]["counts"]) == {"members": 20}


# ------------------------------------------------------------------------------------- params
@pytest.mark.parametrize("params,message", [
    ({"model": "enc", "lo": "abc"}, r"param 'lo': expected float\[0, 1\], got 'abc'"),
    ({"model": "enc", "hi": "1.5"}, r"param 'hi': expected float\[0, 1\], got '1.5' \(above the upper bound 1\)"),
    ({"model": "enc", "score_col": "text"}, r"param 'score_col': expected enum\(entropy_mean, .*got 'text'"),
    ({"model": "enc", "score_col": "entropy_mean; DROP TABLE documents"}, r"param 'score_col': expected enum"),
    ({"lo": 0.1}, r"missing required param 'model' \(model\)"),
    ({"model": "enc", "low": 0.1}, r"unknown param 'low' \(known: model, score_col, lo, hi, window_len, within\)"),
    ({"model": "nobody"}, r"param 'model': no model 'nobody' in the store"),
    ({"model": "enc", "within": "nope"}, r"param 'within': slice 'nope' not found"),
    ({"model": "enc", "window_len": "64.5"}, r"param 'window_len': expected int\?, got '64.5'"),
])
def test_param_type_errors_name_the_param_and_type(scored_store, params, message):
    with pytest.raises(DatacompError, match=message):
        create_slice(scored_store, "x", "score_quantile", params)
    assert list_slices(scored_store) == []


def test_random_sample_size_must_be_positive(scored_store):
    with pytest.raises(DatacompError, match=r"param 'size': expected int\[1, \], got '0' \(below the lower bound 1\)"):
        create_slice(scored_store, "x", "random_sample", {"size": "0"})


def test_unknown_definition_and_empty_result(scored_store):
    with pytest.raises(DatacompError, match=r"no slice definition 'nope' \(shipped: corpus, domain"):
        create_slice(scored_store, "x", "nope")
    with pytest.raises(DatacompError, match=r"slice 'x': domain .* selected no documents"):
        create_slice(scored_store, "x", "domain", {"domains": "poetry"})


# ------------------------------------------------------------------------------------- idempotency
def test_recreate_is_idempotent_and_different_params_need_replace(scored_store):
    first = create_slice(scored_store, "low", "score_quantile", {"model": "enc", "hi": 0.5})
    again = create_slice(scored_store, "low", "score_quantile", {"model": ENC, "hi": "0.5"})
    assert first.created and not again.created and again.n_members == first.n_members
    assert len(scored_store.rows("runs/list", {"limit": 10})) == 1  # nothing ran the second time
    with pytest.raises(DatacompError, match=r"slice 'low' already exists .*hi: 0.5 -> 0.25.*pass --replace"):
        create_slice(scored_store, "low", "score_quantile", {"model": "enc", "hi": 0.25})
    assert len(slice_doc_ids(scored_store, "low")) == first.n_members
    replaced = create_slice(scored_store, "low", "score_quantile", {"model": "enc", "hi": 0.25}, replace=True)
    assert replaced.created and len(slice_doc_ids(scored_store, "low")) == replaced.n_members < first.n_members


# ------------------------------------------------------------------------------------- user SQL
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_definition_runs_with_typed_params(scored_store, docs, tmp_path):
    path = write(tmp_path, "long_code.sql", """
-- description: long code documents
-- param: min_chars: int = 100
-- param: col: enum(n_chars, n_bytes) = n_chars
SELECT doc_id, {{col}} AS order_key FROM documents WHERE domain = 'code' AND {{col}} >= $min_chars
""")
    result = create_slice(scored_store, "long_code", str(path), {"min_chars": "200"})
    expected = sorted((d for d in docs if d["domain"] == "code" and d["n_chars"] >= 200), key=lambda d: d["n_chars"])
    assert slice_doc_ids(scored_store, "long_code") == [d["doc_id"] for d in expected]
    assert result.created
    # The store's read-write connection is back: writing still works.
    create_slice(scored_store, "d", "domain", {"domains": "code"})


@pytest.mark.parametrize("body,kind", [
    ("INSERT INTO slices (slice_id, kind) VALUES ('evil', 'x')", "INSERT"),
    ("DROP TABLE documents", "DROP"),
    ("COPY documents TO '{out}'", "COPY"),
    ("DELETE FROM documents", "DELETE"),
    ("UPDATE documents SET text = ''", "UPDATE"),
    ("ATTACH '{out}' AS other", "ATTACH"),
])
def test_user_sql_other_than_select_is_refused_and_store_unchanged(scored_store, tmp_path, body, kind):
    out = tmp_path / "leak.csv"
    path = write(tmp_path, "evil.sql", "-- a user file\n" + body.format(out=out))
    before = scored_store.table_counts()
    with pytest.raises(DatacompError, match=rf"evil.sql: only SELECT is allowed in a slice definition, found {kind}"):
        create_slice(scored_store, "evil", str(path))
    assert scored_store.table_counts() == before and not out.exists()


def test_user_sql_with_a_second_statement_is_refused(scored_store, tmp_path):
    path = write(tmp_path, "two.sql", "SELECT doc_id FROM documents; DROP TABLE documents")
    before = scored_store.table_counts()
    with pytest.raises(DatacompError, match=r"exactly one SELECT statement, found 2 statements"):
        create_slice(scored_store, "two", str(path))
    assert scored_store.table_counts() == before


def test_the_user_connection_itself_is_read_only(scored_store):
    import duckdb

    before = scored_store.table_counts()
    with read_only_connection(scored_store) as con:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM documents")
    assert scored_store.table_counts() == before


def test_user_sql_cannot_read_files(scored_store, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("doc_id\nabc\n")
    path = write(tmp_path, "reader.sql", f"SELECT doc_id FROM read_csv('{secret}')")
    with pytest.raises(DatacompError, match=r"reader.sql: the slice query failed: Permission Error"):
        create_slice(scored_store, "x", str(path))
    assert list_slices(scored_store) == []


def test_splicing_a_non_enum_param_is_refused(scored_store, tmp_path):
    path = write(tmp_path, "splice.sql", "-- param: col: str = n_chars\nSELECT doc_id FROM documents WHERE {{col}} > 0")
    with pytest.raises(DatacompError, match=r"splice.sql:2: \{\{col\}\} is not a declared enum param"):
        create_slice(scored_store, "x", str(path))


def test_undeclared_parameter_and_missing_doc_id(scored_store, tmp_path):
    path = write(tmp_path, "undeclared.sql", "SELECT doc_id FROM documents WHERE n_chars > $min_chars")
    with pytest.raises(DatacompError, match=r"\$min_chars is used in the SQL but not declared"):
        create_slice(scored_store, "x", str(path))
    path = write(tmp_path, "no_id.sql", "SELECT corpus FROM documents")
    with pytest.raises(DatacompError, match=r"must return a doc_id column \(got corpus\)"):
        create_slice(scored_store, "x", str(path))
    path = write(tmp_path, "dup.sql", "SELECT doc_id FROM documents UNION ALL SELECT doc_id FROM documents")
    with pytest.raises(DatacompError, match=r"returned doc_id '[0-9a-f]+' 2 times"):
        create_slice(scored_store, "x", str(path))
    path = write(tmp_path, "bad_type.sql", "-- param: k: float(1)\nSELECT doc_id FROM documents")
    with pytest.raises(DatacompError, match=r"bad_type.sql:1: param 'k': unknown type 'float\(1\)'"):
        create_slice(scored_store, "x", str(path))
