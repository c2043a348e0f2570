"""Notification domain: pure Python (no Flask, SQLAlchemy or Celery; see the import-linter contract).

Modules: kinds (what is sent), occurrence + idempotency (sent-log keys), planning (due times),
business_days, quiet_hours, channel_selection, phone, retry, delivery (channel I/O types),
sms_length, formatting and rendering (Jinja2 templates in services/notification/templates/).
"""
