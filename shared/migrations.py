"""Alembic helpers: each service keeps its own migrations folder and its own database."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(script_location: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_env(metadata) -> None:
    """Body of a service's migrations/env.py (online mode; offline SQL via --sql works too)."""
    from alembic import context

    from shared.db import make_engine

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(url)
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=metadata,
                              render_as_batch=connection.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
    else:
        context.configure(connection=connectable, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


def autogenerate(service: str, message: str) -> None:
    """Write a new revision for ``service`` by diffing its metadata against a scratch DB at head.

    ``python -m shared.migrations enrollment "add completions"`` (``make migration``).
    """
    import importlib
    import tempfile

    script_location = Path(importlib.import_module(f"services.{service}").__file__).parent / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        cfg = alembic_config(script_location, url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    import sys
    autogenerate(sys.argv[1], sys.argv[2])
