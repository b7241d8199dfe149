"""Benchmarks, run by hand: ``python -m bench.workers`` and friends."""
