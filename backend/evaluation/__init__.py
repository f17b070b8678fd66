"""Offline evaluations of the agents: the store evaluation and the published perishable benchmark."""
