"""Desktop side of importing, geocoding and exporting accounts: the wizard and the File-menu actions."""
