"""Notification service. ``create_app`` lives in ``services.notification.app``."""
