"""The Sync section of the desktop."""
