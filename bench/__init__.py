"""Benchmarks of issue 7 (P1–P5): ``uv run python -m bench``; see docs/benchmarks.md."""
