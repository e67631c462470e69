"""Prompt formats: the chat template around the context for instruct decoders, control tokens only where
the template puts them, and every system reading the same preamble."""

import pytest
import torch

from datacomp.compressors.batch import encode_example
from datacomp.compressors.example import TaskExample
from datacomp.compressors.prompts import (FEWSHOT, SHORT_ANSWER, SHOTS, chat_parts, chat_question, prompt_signature,
                                          resolve_format)
from datacomp.compressors.tasks import extract_answer
from datacomp.errors import DatacompError

TEMPLATE = ("{% for m in messages %}<|endoftext|>{{ m['role'] }}\n{{ m['content'] }}<|endoftext|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|endoftext|>assistant\n{% endif %}")


@pytest.fixture()
def chat_tokenizer(tiny_lm_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    tokenizer.chat_template = TEMPLATE
    return tokenizer


def qa(question="Who won?"):
    return TaskExample("q", "qa", "Denver beat Carolina.", "\n### Question:\nWho won?\n### Answer:\n", "Denver",
                       ("Denver",), question=question)


def test_resolution(chat_tokenizer, tiny_lm_dir):
    from transformers import AutoTokenizer

    plain = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    assert resolve_format("auto", chat_tokenizer, "qa") == "fewshot"       # worked examples beat the template
    assert resolve_format("auto", plain, "qa") == "plain"                  # a small LM's window: no worked examples
    assert resolve_format("fewshot", plain, "qa") == "fewshot"
    assert resolve_format("auto", chat_tokenizer, "span-recall") == "chat"
    assert resolve_format("auto", plain, "span-recall") == "plain"
    assert resolve_format("auto", chat_tokenizer, "reconstruction") == "plain"   # only question tasks
    assert resolve_format("fewshot", chat_tokenizer, "reconstruction") == "plain"
    with pytest.raises(DatacompError, match="the tokenizer has no chat template"):
        resolve_format("chat", plain, "qa")
    with pytest.raises(DatacompError, match="prompt_format 'fancy': choose one of auto, plain, fewshot, chat"):
        resolve_format("fancy", plain, "qa")


def test_chat_layout_tokenizes_the_template_with_control_tokens_and_the_question_as_text(chat_tokenizer):
    eos = chat_tokenizer.eos_token_id
    row = encode_example(qa(), chat_tokenizer, 64, 8, prompt_format="chat")
    head, tail = chat_parts(chat_tokenizer)
    assert row.preamble_ids == head and head[0] == eos                      # "<|endoftext|>user\n" -> one id
    shots = "".join(f"<|endoftext|>user\n{c}{chat_question(q)}<|endoftext|>\n<|endoftext|>assistant\n{a}<|endoftext|>\n"
                    for c, q, a in SHOTS)
    assert chat_tokenizer.decode(head) == shots + "<|endoftext|>user\n"   # worked examples, then the user turn
    assert row.prompt_ids[-len(tail):] == tail and chat_tokenizer.decode(tail) == "<|endoftext|>\n<|endoftext|>assistant\n"
    assert chat_tokenizer.decode(row.prompt_ids[:-len(tail)]) == f"\n\nQuestion: Who won?\n{SHORT_ANSWER}"
    assert row.target_ids == chat_tokenizer("Denver", add_special_tokens=False)["input_ids"] + [eos]
    sneaky = encode_example(qa("Who <|endoftext|> won?"), chat_tokenizer, 64, 8, prompt_format="chat")
    assert eos not in sneaky.prompt_ids[:-len(tail)]                         # text, not a control token
    plain = encode_example(qa(), chat_tokenizer, 64, 8, prompt_format="plain")
    assert plain.preamble_ids == [] and chat_tokenizer.decode(plain.prompt_ids) == qa().prompt


def test_baselines_and_soft_prompts_read_the_preamble_first(chat_tokenizer, tiny_lm_dir):
    from datacomp.compressors.decoding import token_prefix
    from datacomp.compressors.lora import load_lm

    model, _ = load_lm(str(tiny_lm_dir))
    row = encode_example(qa(), chat_tokenizer, 64, 8, prompt_format="chat")
    prefix = token_prefix(model, [row.context_ids], start_token_id=chat_tokenizer.eos_token_id,
                          preambles=[row.preamble_ids])
    expected = model.get_input_embeddings()(torch.tensor(row.preamble_ids + row.context_ids))  # no second start
    torch.testing.assert_close(prefix.embeds[0], expected)
    assert prefix.next_position == [len(row.preamble_ids) + len(row.context_ids)]


def test_prompt_signature_changes_with_the_prompt_tokens(chat_tokenizer, monkeypatch):
    import datacomp.compressors.prompts as prompts

    assert prompt_signature("auto", chat_tokenizer, "reconstruction") == "plain"
    before = prompt_signature("chat", chat_tokenizer, "qa")
    fewshot = prompt_signature("auto", chat_tokenizer, "qa")
    assert before.startswith("chat:") and fewshot.startswith("fewshot:")
    monkeypatch.setattr(prompts, "SHOTS", SHOTS[:1])
    monkeypatch.setattr(prompts, "FEWSHOT", FEWSHOT[:1])
    chat_tokenizer._datacomp_chat_parts = None
    assert prompt_signature("chat", chat_tokenizer, "qa") != before        # other shots: another run identity
    assert prompt_signature("auto", chat_tokenizer, "qa") != fewshot


def test_fewshot_layout_puts_worked_examples_before_the_context_and_a_space_before_the_answer(chat_tokenizer):
    eos = chat_tokenizer.eos_token_id
    row = encode_example(qa(), chat_tokenizer, 64, 8, prompt_format="fewshot")
    shots = "".join(f"Text:\n{c}\nQuestion: {q}\nAnswer: {a}\n\n" for c, q, a in FEWSHOT)
    assert len(FEWSHOT) == 4 and chat_tokenizer.decode(row.preamble_ids) == shots + "Text:\n"
    assert chat_tokenizer.decode(row.context_ids) == "Denver beat Carolina."
    assert chat_tokenizer.decode(row.prompt_ids) == "\nQuestion: Who won?\nAnswer:"
    # the answer ends as the worked examples' answers do, with a newline and no eos
    assert row.target_ids == chat_tokenizer(" Denver\n", add_special_tokens=False)["input_ids"]
    assert eos not in row.target_ids
    # the model goes on with the next worked example after its answer: the first line is what is scored
    assert extract_answer("qa", chat_tokenizer.decode(row.target_ids) + "\nText:\nThe next", 4) == "Denver"
    signature = prompt_signature("auto", chat_tokenizer, "qa")
    assert signature.startswith("fewshot:") and signature != prompt_signature("chat", chat_tokenizer, "qa")


@torch.no_grad()
def test_sac_layout_is_the_official_token_sequence_for_sac_and_the_baselines(tiny_lm_dir):
    from transformers import AutoTokenizer

    from datacomp.compressors.decoding import token_prefix
    from datacomp.compressors.registry import build_compressor
    from datacomp.compressors.sac import SACConfig

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id

    def ids(text):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    assert SACConfig().prompt_format == "sac"                              # SAC's default for QA
    assert resolve_format("sac", tokenizer, "qa") == "sac"
    assert resolve_format("sac", tokenizer, "reconstruction") == "plain"
    row = encode_example(qa(), tokenizer, 64, 8, prompt_format="sac")
    assert row.preamble_ids == ids("### Context:\n") and row.context_ids == ids("Denver beat Carolina.")
    assert row.prompt_ids == ids("\n### Question:\nWho won?\n### Answer:\n")
    assert row.target_ids == ids("Denver") + [eos]                         # the answer ends with eos
    # a baseline's decoder reads BOS, the head, the context, the question, then the answer
    sequence = [bos] + row.preamble_ids + row.context_ids + row.prompt_ids + row.target_ids
    assert tokenizer.decode(sequence) == ("<|endoftext|>### Context:\nDenver beat Carolina.\n### Question:\n"
                                          "Who won?\n### Answer:\nDenver<|endoftext|>")
    from datacomp.compressors.lora import load_lm

    model, _ = load_lm(str(tiny_lm_dir))
    prefix = token_prefix(model, [row.context_ids], start_token_id=bos, preambles=[row.preamble_ids])
    assert prefix.next_position == [1 + len(row.preamble_ids) + len(row.context_ids)]
    # SAC's compressor reads the official [BOS] + "### Context:\n" + context; its decoder [LM] + question + answer
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2, "max_context_tokens": 48})
    (encoded,) = sac.encode([qa()])
    assert sac.input_ids(encoded) == [bos] + ids("### Context:\n") + ids("Denver beat Carolina.")
    assert sac.input_ids(encoded) == sac.input_head + encoded.context_ids   # the same as its plain input
    assert encoded.prompt_ids == row.prompt_ids and encoded.target_ids == row.target_ids
    signature = prompt_signature("sac", tokenizer, "qa")
    assert signature.startswith("sac:") and signature != prompt_signature("plain", tokenizer, "qa")
