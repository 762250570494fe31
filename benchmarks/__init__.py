"""Benchmarks of the gateway: each measures a subject against a baseline taken in the same run.

Run them with `.venv/bin/python benchmarks/run.py [--quick] [--only NAME]`; add one by writing
`benchmarks/bench_<name>.py` with a function decorated by `benchmarks.harness.benchmark`.
"""
