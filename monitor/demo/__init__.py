"""Synthetic demo pages and the `make demo` tour (python -m monitor.demo)."""
