"""Context compressors: one interface (base.py), one file per method, one registry."""
