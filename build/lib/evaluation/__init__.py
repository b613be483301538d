"""Measuring models: the evaluation protocols, the transfer test, quality measures and benchmarks."""
