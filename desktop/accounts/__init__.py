"""The Accounts section: a lazily-fetched table of accounts, filters, and an edit panel with undo."""
