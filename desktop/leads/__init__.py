"""The Leads section: inbound leads and their routing, queues, and dynamic books."""
