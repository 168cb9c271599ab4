"""Maps without a network: bundled boundaries and web assets, what a map shows, and the page folium builds."""
