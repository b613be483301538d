"""Shipping models: exporting a run to weights, packing data for a lent GPU, pushing to the Hub."""
