"""FieldAtlas domain layer: storage, geography, territories, routing, expenses; never imports Qt."""
