"""Kehittämö's benchmark suite: ``python -m bench`` (see bench/README.md and docs/performance.md)."""
