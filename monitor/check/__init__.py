"""One check of a document: load its state, decide, apply the decision in one transaction."""
