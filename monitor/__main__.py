"""``python -m monitor``: the same as the ``policy-monitor`` script."""

from monitor.cli import main

main()
