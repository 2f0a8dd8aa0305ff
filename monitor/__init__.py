"""policy-monitor: watch terms and privacy policies, flag AI-training language changes."""

__version__ = "0.1.0"
