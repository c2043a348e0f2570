"""Reporting service. ``create_app`` lives in ``services.reporting.app``."""
