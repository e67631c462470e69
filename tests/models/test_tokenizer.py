import pytest

from datacomp.errors import DatacompError
from datacomp.models.tokenizer import SPECIAL_TOKEN, load_family_tokenizer, train_tokenizer

CORPUS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "def add(a, b):\n    return a + b\n\n\tprint(add(1, 2))\n",
    "Grüße aus Köln — naïve café, 東京, Ελληνικά, emoji 🙂🚀.",
] * 30

SAMPLES = [
    "def f(x):\n\tif x:\n        return  x\r\n\n\n    # trailing spaces   \n",
    "Zürich – «quoted» 日本語のテキスト 🙂 and \u200b zero-width, combining e\u0301",
    "never seen: ☃ ⅞ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \x00 control",
    " leading space, a . b , c ( d )",
    "",
]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(CORPUS, vocab_size=320, seed=0)


@pytest.mark.parametrize("text", SAMPLES)
def test_decode_encode_round_trips(tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text


def test_special_tokens_and_vocabulary(tokenizer):
    assert len(tokenizer) == 320
    assert tokenizer.eos_token == tokenizer.bos_token == tokenizer.pad_token == SPECIAL_TOKEN
    assert tokenizer.convert_tokens_to_ids(SPECIAL_TOKEN) == tokenizer.eos_token_id
    # merges learned from the corpus make frequent words shorter than their bytes
    assert len(tokenizer.encode(" quick brown", add_special_tokens=False)) < len(" quick brown")


def test_same_seed_same_vocabulary_and_save_load(tmp_path, tokenizer):
    again = train_tokenizer(CORPUS, vocab_size=320, seed=0)
    assert again.get_vocab() == tokenizer.get_vocab()
    tokenizer.save_pretrained(tmp_path)
    loaded = load_family_tokenizer(tmp_path)
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert loaded.decode(loaded.encode(SAMPLES[0], add_special_tokens=False)) == SAMPLES[0]


def test_vocabulary_too_small_is_an_error():
    with pytest.raises(DatacompError, match="vocab_size 100 is too small"):
        train_tokenizer(CORPUS, vocab_size=100)


def test_missing_tokenizer_folder_is_named(tmp_path):
    with pytest.raises(DatacompError, match=f"{tmp_path} holds no tokenizer.json"):
        load_family_tokenizer(tmp_path)
