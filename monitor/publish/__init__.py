"""Publish stage: RSS/Atom feeds, the operations feed, OPML, and the static site (site/)."""
