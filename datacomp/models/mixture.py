"""Data mixtures: ``literature=0.7,code=0.3`` -> {"literature": 0.7, "code": 0.3}, checked against the store.

Weights are relative: they are normalised to sum to 1, so ``code=3,literature=7`` is the same mixture.
"""

from __future__ import annotations

import re

from datacomp.errors import DatacompError

_DOMAIN = re.compile(r"^[A-Za-z0-9_.\-]+$")


def parse_mixture(spec: str | dict[str, float]) -> dict[str, float]:
    """Parse ``domain=weight,...`` (or take a dict) into weights that sum to 1, in the order given."""
    if isinstance(spec, dict):
        items = [(str(k), v) for k, v in spec.items()]
    else:
        items = []
        for part in (p.strip() for p in str(spec).split(",")):
            if not part:
                continue
            if "=" not in part:
                # A bare domain name means weight 1: `--mixture code` trains on code only.
                items.append((part, 1.0))
                continue
            domain, _, weight_text = part.partition("=")
            try:
                weight = float(weight_text)
            except ValueError:
                raise DatacompError(
                    f"mixture entry {part!r}: weight {weight_text.strip()!r} of domain {domain.strip()!r} "
                    "is not a number (write e.g. literature=0.7,code=0.3)") from None
            items.append((domain.strip(), weight))
    if not items:
        raise DatacompError("mixture is empty: name at least one domain, e.g. literature=0.7,code=0.3")
    weights: dict[str, float] = {}
    for domain, weight in items:
        if not _DOMAIN.match(domain):
            raise DatacompError(f"mixture domain {domain!r} is not a valid domain name "
                                "(letters, digits, '_', '-', '.')")
        if domain in weights:
            raise DatacompError(f"mixture names domain {domain!r} twice")
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise DatacompError(f"mixture weight of domain {domain!r} is not a number: {weight!r}") from None
        if not weight > 0 or weight == float("inf"):
            raise DatacompError(f"mixture weight of domain {domain!r} must be a positive number, got {weight}")
        weights[domain] = weight
    total = sum(weights.values())
    return {domain: weight / total for domain, weight in weights.items()}


def format_mixture(mixture: dict[str, float]) -> str:
    return ",".join(f"{domain}={weight:g}" for domain, weight in mixture.items())


def check_domains(mixture: dict[str, float], available: dict[str, int]) -> None:
    """Raise naming every mixture domain that has no documents in the store (``available``: domain -> docs)."""
    missing = [domain for domain in mixture if available.get(domain, 0) == 0]
    if missing:
        known = ", ".join(f"{d} ({n} docs)" for d, n in sorted(available.items())) or "none: ingest a corpus first"
        raise DatacompError(f"mixture domain {', '.join(repr(m) for m in missing)} has no documents in the "
                            f"store; domains with documents: {known}")
