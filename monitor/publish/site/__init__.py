"""The static site in the feeds folder: index, a timeline per document, a page per change
and per version, the raw snapshots, and the feed entries' bodies, all from one set of
Jinja2 templates (``templates/``) with autoescaping."""
