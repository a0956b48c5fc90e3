"""Headless robot that takes card and ACH payments into Jobber through its web UI."""

__version__ = "0.1.0"
