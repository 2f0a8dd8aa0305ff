"""Publish stage: RSS/Atom feeds, the operations feed, OPML, and the static site (site/).

The folder name lives here, not in ``write``, so a command can name it without loading the
feed and template libraries.
"""

FEED_DIR = "feeds"  # the published folder in a data directory: feeds and site
