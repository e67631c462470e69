"""Coverage: n evaluated per domain beside n available in the evaluated slice (or corpus), a warning for
every domain never reached, and both printed in the report."""

from __future__ import annotations

from datacomp.analysis.coverage import coverage_warnings


def _evaluate(store, docs, eval_slice):
    for doc in docs:
        store.run("evaluation/insert", {
            "eval_id": "e1", "run_id": "r", "system": "full", "compressor_id": None, "method": "full",
            "decoder_id": "m", "task": "qa", "example_id": f"x-{doc}", "doc_id": doc, "eval_slice": eval_slice,
            "ratio_target": 4.0, "ratio_actual": 1.0, "n_context_tokens": 8, "n_slots": 8, "memory_bytes": 1,
            "f1": 0.5, "em": 0.0, "bleu": 0.0, "target_nll": 1.0, "compress_ms": 0.0, "decode_ms": 1.0,
            "prediction": "p", "reference": "r"})


def _documents(store, corpus="c"):
    for i, domain in enumerate(["code", "code", "poetry", "poetry", "poetry"]):
        store.run("scoring/fixture_document", {"doc_id": f"d{i}", "corpus": corpus, "domain": domain,
                                               "text": f"text {i}", "source": "t"})


def test_coverage_counts_evaluated_documents_per_domain_and_warns_on_a_missing_one(store):
    from datacomp.analysis.render import render_markdown
    from datacomp.analysis.report import ReportConfig, build_report
    from datacomp.curation.slices import create_slice

    _documents(store)
    create_slice(store, "held", "domain", {"domains": ["code", "poetry"]})
    _evaluate(store, ("d0", "d1"), "held")   # only code documents evaluated
    coverage = store.rows("analysis/evaluation_coverage", {"task": "qa"})
    assert [(c["domain"], c["n_evaluated"], c["n_available"]) for c in coverage] == [("code", 2, 2), ("poetry", 0, 3)]
    assert coverage_warnings(coverage) == ["e1: no poetry document evaluated (3 in its slice)"]
    markdown = render_markdown(build_report(store, ReportConfig(n_boot=50, figures=False, task="qa")).data)
    assert "| evaluation | domain | evaluated | in the slice |\n|---|---|---|---|\n| e1 | code | 2 | 2 |\n" \
           "| e1 | poetry | 0 | 3 |" in markdown
    assert "**Warning:** e1: no poetry document evaluated (3 in its slice): findings about domains do not cover it." \
        in markdown


def test_a_corpus_evaluated_directly_counts_its_documents_as_available(store):
    _documents(store, corpus="shakespeare")
    _evaluate(store, ("d2",), "shakespeare")
    coverage = store.rows("analysis/evaluation_coverage", {"task": "qa"})
    assert [(c["domain"], c["n_evaluated"], c["n_available"]) for c in coverage] == [("code", 0, 2), ("poetry", 1, 3)]
    assert coverage_warnings(coverage) == ["e1: no code document evaluated (2 in its slice)"]
