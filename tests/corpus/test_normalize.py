import hashlib
import unicodedata

from datacomp.corpus.normalize import doc_id_of, normalize_text


def test_nfc_and_newlines():
    decomposed = "Cafe\u0301\r\nline two\rline three\n"
    assert normalize_text(decomposed) == "Caf\u00e9\nline two\nline three"
    assert unicodedata.is_normalized("NFC", normalize_text(decomposed))


def test_bom_leading_blank_lines_and_trailing_space_removed_but_indent_kept():
    assert normalize_text("\ufeff\n  \n    return x  \n\n") == "    return x"


def test_doc_id_is_sha256_of_normalised_utf8():
    text = normalize_text("Cafe\u0301")
    assert doc_id_of(text) == hashlib.sha256("Caf\u00e9".encode("utf-8")).hexdigest()
    assert doc_id_of(normalize_text("Caf\u00e9\r\n")) == doc_id_of(normalize_text("Cafe\u0301"))
