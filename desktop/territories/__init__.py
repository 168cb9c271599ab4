"""The Territories section: the territory tree, the rule editor with live preview, balancing and scenarios."""
