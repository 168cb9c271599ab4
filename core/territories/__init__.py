"""Territories: rule JSON per kind, rules of engagement, ownership history and per-territory figures."""
