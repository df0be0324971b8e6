"""Benchmarks: `python -m bench.<name>` prints figures beside baselines measured in the same run."""
