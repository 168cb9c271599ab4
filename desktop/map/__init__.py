"""The Map section: offline maps of accounts, territories and routes in a QtWebEngine view."""

from desktop.map.tiles import register_scheme

# QtWebEngine reads custom schemes once, when its first profile is made; registering on import
# keeps fatiles:// working whenever this package is imported before the first web view.
register_scheme()
