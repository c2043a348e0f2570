"""Engine and session helpers common to the services (SQLAlchemy 2)."""
from __future__ import annotations

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
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
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


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
