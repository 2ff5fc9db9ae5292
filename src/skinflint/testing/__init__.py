"""Random instances for property tests and benchmarks (no test framework imported here)."""
