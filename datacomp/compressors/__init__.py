"""Context compressors: one interface (base.py), one file per method, one registry, one batched engine.

- batch.py: ``encode_example`` (the one place task examples become ids: context, prompt, query, target,
  loss start) and ``EncodedExample``.
- decoding.py: the only code that runs a decoder: ``Prefix``, ``teacher_forced_nll``, ``nll_and_greedy``
  (one prefill, one KV cache per batch, per-row eos), ``token_prefix`` for text baselines.
- base.py: ``Memory`` (per row: soft embeddings or per-layer K/V slots), ``Compressor`` (compress /
  decoder_prefix / training_loss / predict on batches; models are handed in), ``CompressorConfig``.
- autoencoder.py (ICAE style, multi-span), sac.py (semantic anchors), comi.py + comi_groups.py (COMI and
  the ``meanpool`` baseline).
- registry.py: ``REGISTRY`` (one "module:Class" line per method, imported on first use), ``build_compressor``
  (loads the models once), ``save_compressor`` / ``load_compressor``. What else the toolkit needs to know of a
  method lives on its class (``default_task``, ``encoder_refusal``, ``tunes_decoder``): a new method is one file
  and one registry line (tests/compressors/fifth_method.py shows one).
- presses/: training-free KV-cache presses (one file each, ``PRESSES``), applied by ``decoding.pressed_prefix``;
  llmlingua.py / llmlingua2.py: the prompt compressors; encoder_export.py: a trained encoder as a scoring model.
- train.py: ``train_compressor`` / ``train_stages``: micro-batches, mixed precision, resumable checkpoints.
- lora.py: peft LoRA injection, adapter switching and new-token initialisation shared by the methods.
- example.py: ``TaskExample``; tasks.py: task data; training_run.py: ``datacomp train`` on the store.
"""
