"""Engine and session helpers common to the services (SQLAlchemy 2)."""
from __future__ import annotations

import time

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the settings each backend needs to behave under concurrency.

    SQLite: WAL so readers do not block the writer, a busy timeout instead of instant "database is
    locked", and ``BEGIN IMMEDIATE`` so a read-then-write transaction takes the write lock up front
    (two concurrent enrollments then serialise instead of failing or overbooking).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is deferred)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    ping_after_idle = kwargs.pop("ping_after_idle", PING_AFTER_IDLE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_idle_connections(engine, ping_after_idle)
    return engine


#: A pooled connection unused for this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle, without a ping per checkout.

    ``pool_pre_ping`` costs a round trip every time a request takes a connection (a tenth of a busy
    enrollment's statements). A connection that was used moments ago is as good as a ping, so only one
    that has been idle longer than ``idle_seconds`` (across a database restart, a failover, a firewall's
    idle timeout) is pinged; if the ping fails the pool discards it and hands out a fresh one
    (SQLAlchemy's documented ``DisconnectionError`` protocol). A connection that breaks while busy still
    fails that one statement, and SQLAlchemy then invalidates the pool.
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        record.info["hrd_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        since = record.info.get("hrd_idle_since")
        if since is not None and time.monotonic() - since > idle_seconds:
            try:
                ok = engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:  # noqa: BLE001 - any failure means: do not use this connection
                raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc
            if not ok:
                raise DisconnectionError("idle connection failed its ping")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def dialect_name(conn_or_session) -> str:
    bind = conn_or_session.get_bind() if hasattr(conn_or_session, "get_bind") else conn_or_session
    return bind.dialect.name


def upsert_insert(conn_or_session):
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite both do)."""
    if dialect_name(conn_or_session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


#: Constraint names every service uses, so Alembic can name (and later drop) them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


def service_metadata() -> MetaData:
    """A fresh MetaData for one service's own database."""
    return MetaData(naming_convention=NAMING_CONVENTION)
