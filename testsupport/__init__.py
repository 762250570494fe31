"""Helpers for tests and benchmarks: real services started on loopback, sample data.

Not part of the shipped package (pyproject ships gateway, schemas, mappers, validators only): it
is imported from a checkout, with the repository root on sys.path (pytest's `pythonpath`,
benchmarks/run.py, or `python -m` from the root).
"""
