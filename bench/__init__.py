"""A benchmark of the page socket against peer servers, run with `python -m bench run`.

See docs/benchmarks.md for what it measures and the latest numbers.
"""
