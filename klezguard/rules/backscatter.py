"""backscatter rules."""
