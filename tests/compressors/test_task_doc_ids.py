"""QA examples carry the store's doc_id: the context goes through the same normalisation as ingestion."""

import json

from datacomp.compressors.tasks import TaskDataConfig, document_id, load_qa_file, qa_examples
from datacomp.corpus import IngestConfig, ingest_paths


def test_crlf_bom_qa_context_finds_its_document_row(store, tmp_path, tiny_lm_dir):
    from datacomp.models.loading import load_tokenizer

    # A context as a Windows editor saves it: BOM, CRLF line ends, a leading blank line, trailing spaces.
    context = "\ufeff\r\nParis is the capital of France.\r\nThe Seine flows through it.  \r\n"
    corpus_file = tmp_path / "contexts.jsonl"
    corpus_file.write_text(json.dumps({"text": context}) + "\n", encoding="utf-8")
    ingest_paths(store, [str(corpus_file)], IngestConfig(corpus="ctx"))
    squad = {"version": "1.1", "data": [{"title": "Paris", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "What is the capital?",
         "answers": [{"text": "Paris", "answer_start": context.index("Paris")}]}]}]}]}
    qa_file = tmp_path / "squad.json"
    qa_file.write_text(json.dumps(squad), encoding="utf-8")

    examples = qa_examples(load_qa_file(qa_file), load_tokenizer(str(tiny_lm_dir)),
                           TaskDataConfig(task="qa", context_tokens=500)).examples
    assert len(examples) == 1
    rows = store.con.execute("SELECT corpus, text FROM documents WHERE doc_id = ?", [examples[0].doc_id]).fetchall()
    assert rows == [("ctx", "Paris is the capital of France.\nThe Seine flows through it.")]
    # NFC composition is part of the rule too: decomposed and composed "é" are one document.
    assert document_id("caf\u0065\u0301\r\n") == document_id("\ufeffcaf\u00e9")
