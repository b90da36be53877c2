"""lookalike rules."""
