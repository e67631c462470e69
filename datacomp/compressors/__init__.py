"""Context compressors: one interface (base.py), one file per method, one registry.

- base.py: ``Memory`` (soft embeddings or per-layer K/V slots), ``Compressor`` (compress / decoder_forward /
  generate / training_loss / encode_example / predict), ``CompressorConfig``.
- autoencoder.py (ICAE style), sac.py (semantic anchors), comi.py (COMI and the ``meanpool`` baseline).
- registry.py: ``REGISTRY``, ``build_compressor``, ``save_compressor`` / ``load_compressor``.
- train.py: ``train_compressor`` / ``train_stages`` with resumable checkpoints.
- lora.py: peft LoRA injection and new-token initialisation shared by the methods.
- example.py: ``TaskExample``; tasks.py: task data; training_run.py: ``datacomp train`` on the store.
"""
