"""The Territories section: the territory tree, the rule editor with live preview, balancing and scenarios."""

# PySide6 6.12 as installed here drops a reference to None/True/False on many calls (QLabel.setText,
# QTreeWidgetItem.setData, model resets...), so a busy session would deallocate None and abort the
# interpreter ("none_dealloc"). Holding spare references keeps the count far from zero until the
# binding is fixed; this belongs in desktop/app.py for the whole app (reported to the lead).
_REFCOUNT_BALLAST = [None, True, False] * 1_000_000
