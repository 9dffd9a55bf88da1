"""Reproducible benchmarks; run with ``python3 dev.py bench``."""
