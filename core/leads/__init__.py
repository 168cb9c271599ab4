"""Inbound leads: import, scoring and grading, matching to accounts, and routing through queues."""
