"""The Plan section: a rep's visit routes for the coming days, call rotations, and visits on the road."""
