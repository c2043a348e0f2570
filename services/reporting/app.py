"""Reporting service: rolled-up statistics, plan vs actual, exports, dashboard."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask

from services.reporting.adapters.orm import metadata
from shared.celery_factory import celery_init_app
from shared.flask_base import Database, create_service_app

SERVICE = "reporting"

#: Service settings (override with REPORTING_<NAME> or HRD_<NAME> environment variables).
DEFAULTS: dict[str, Any] = {
    "REPLAY_PAGE_SIZE": 2000,          # events per replayed page during a rebuild
    "REPLAY_STALL_SECONDS": 60,        # a rebuild that has not moved for this long re-asks for its page
    "RECONCILE_EVERY_SECONDS": 3600,   # beat: counts snapshot request for every known year
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    database = Database(metadata, Path(__file__).parent / "migrations")
    app, api = create_service_app(SERVICE, __name__, config, database)
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    from services.reporting.api import dashboard, reports
    api.register_blueprint(reports.blp)
    app.register_blueprint(dashboard.bp)

    celery_app = celery_init_app(app)
    with app.app_context():
        from services.reporting.tasks import register_tasks
        register_tasks(celery_app)

    @app.cli.command("rebuild")
    @click.option("--wait/--no-wait", default=True, help="Wait until the replay has finished.")
    @click.option("--timeout", default=3600.0, help="Seconds to wait at most.")
    def rebuild_command(wait: bool, timeout: float):
        """Wipe the read model and rebuild it from enrollment's event history (needs both workers running)."""
        import time

        from services.reporting.service_layer import maintenance
        db = app.extensions["db"]
        started = maintenance.start_rebuild(db.session_factory, celery_app, "cli", app.config["REPLAY_PAGE_SIZE"])
        click.echo(f"rebuild {started['id']} started")
        deadline = time.monotonic() + timeout
        while wait:
            time.sleep(1)
            with db.session_factory() as s:
                state = maintenance.get_rebuild(s, started["id"])
            click.echo(f"  {state['state']}: {state['events_applied']:,} events applied, cursor {state['cursor_seq']}")
            if state["state"] != "running":
                break
            if time.monotonic() > deadline:
                raise click.ClickException("timed out; the rebuild continues in the workers")

    return app
