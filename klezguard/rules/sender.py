"""sender rules."""
