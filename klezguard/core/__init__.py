"""Qt-free core: the message model, mail sources and what the engine knows about the user."""
