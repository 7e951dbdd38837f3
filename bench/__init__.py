"""Benchmarks: `python -m bench [name ...]`. Each writes bench/results/<name>.json and .md."""
