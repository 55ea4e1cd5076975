"""Reporting: the notebook series tooling and HTML report, and shared plot helpers."""
