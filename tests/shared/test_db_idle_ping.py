"""Idle pooled connections are pinged before use (instead of a ping on every checkout)."""
import pytest
from sqlalchemy import text

from shared.db import make_engine


@pytest.fixture
def pg_url(db_urls):
    url = db_urls["enrollment"]
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: a SQLite connection cannot be killed from outside")
    return url


def _kill_pooled_backend(engine, pg_url) -> int:
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = make_engine(pg_url)
    with other.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    other.dispose()
    return pid


def test_a_connection_killed_while_idle_is_replaced_before_use(pg_url):
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, ping_after_idle=0.0)
    try:
        dead = _kill_pooled_backend(engine, pg_url)
        with engine.connect() as conn:  # checkout pings, finds it dead, reconnects
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead
    finally:
        engine.dispose()


def test_a_recently_used_connection_is_not_pinged(pg_url):
    # Guards the point of the change: no round trip per checkout. The killed connection is handed out
    # unpinged, so its first statement fails (and SQLAlchemy invalidates it for the next checkout).
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, ping_after_idle=3600.0)
    try:
        _kill_pooled_backend(engine, pg_url)
        with pytest.raises(Exception):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
