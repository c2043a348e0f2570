"""Enrollment service. ``create_app`` lives in ``services.enrollment.app``."""
