"""attachments rules."""
