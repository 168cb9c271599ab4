"""Goals per rep or territory and period, and their results from logged visits and imported closed deals."""
