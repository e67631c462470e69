"""Causal LMs by path: loading, registering in the store, pretraining small reference models."""
