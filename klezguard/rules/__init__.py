"""The rule engine: registered rules, their weights, and the engine that adds findings up."""
