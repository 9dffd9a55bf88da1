"""microcred: issuer and verifier of verifiable EU micro-credentials."""

__version__ = "0.1.0"
