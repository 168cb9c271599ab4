"""The Reports section: goals against results and field activity as charts."""
