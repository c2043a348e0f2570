"""Flask CLI of the enrollment service: ``flask --app services.enrollment.app:create_app load-demo-plan``."""
from __future__ import annotations

import time

import click
from flask import current_app

from services.enrollment.adapters.seed_csv import load_demo_plan
from services.enrollment.service_layer import plans
from services.enrollment.service_layer.unit_of_work import from_app


def register_cli(app) -> None:
    @app.cli.command("load-demo-plan")
    @click.option("--year", default=2019, show_default=True, type=int, help="only 2019 has a demo plan")
    @click.option("--dry-run", is_flag=True, help="show what would change, write nothing")
    def load_demo_plan_command(year: int, dry_run: bool) -> None:
        """Load the 2019 demo plan (239 courses / 198,999 seats) idempotently, with its catalogue events.

        Courses merged or abolished in 2019 are not loaded (they are not part of the 2019 plan)."""
        if year != 2019:
            raise click.UsageError("only the 2019 demo plan exists")
        t0 = time.monotonic()
        plan = load_demo_plan()
        out = plans.import_plan(from_app(current_app), list(plan.courses), actor="system:demo-plan", dry_run=dry_run)
        relay = current_app.extensions.get("outbox_relay")
        if relay is not None and not relay.flush(30):
            click.echo("some events are not published yet; the outbox sweep will send them", err=True)
        c, s, t = out["courses"], out["sessions"], out["totals"]
        click.echo(f"demo plan {year}: {t['courses']} courses / {t['seats']:,} seats "
                   f"(classroom {t['by_delivery']['classroom']['courses']} / "
                   f"{t['by_delivery']['classroom']['seats']:,}, e-learning "
                   f"{t['by_delivery']['elearning']['courses']} / {t['by_delivery']['elearning']['seats']:,}); "
                   f"courses +{c['create']} ~{c['update']} ={c['unchanged']}, sessions +{s['create']} "
                   f"~{s['update']} ={s['unchanged']}{' (dry run)' if dry_run else ''} "
                   f"in {time.monotonic() - t0:.2f}s; {len(plan.excluded)} retired/non-course seed rows not loaded")
