"""Bulk enrollment of new hires into the onboarding track (issue 4).

files.py (adapter: header table, stored uploads) · tracks.py (adapter: track definitions as data) ·
service.py (use cases) · tasks.py (Celery entrypoints) · api.py (HTTP entrypoints) · demo.py (demo data).
The pure rules live in services/enrollment/domain/onboarding.py.
"""
