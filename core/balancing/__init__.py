"""Balancing territories: workload, the CP-SAT model, scenarios, and the add/remove rep flows."""
