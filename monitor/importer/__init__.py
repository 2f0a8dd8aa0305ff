"""Imported history (issue 14): archives read as steps, each recorded the way a check is.

``sources`` (ota, snapshots, wayback) turn an archive into dated :class:`Step` values;
``run`` records each one through the check's own observe -> decide -> apply path, in its
own transaction, with the archive's time as the check's "now".

The Wayback Machine's address lives here, not in ``wayback``, so the command line can show
it without loading the HTTP client.
"""

DEFAULT_ARCHIVE = "https://web.archive.org"
ARCHIVE_ENV = "POLICY_MONITOR_WAYBACK_URL"
