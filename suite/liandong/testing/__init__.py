"""Helpers the tests and the benchmarks share: they drive the suite from outside, as a
client or as the parent of its processes, and are never imported by the services."""
