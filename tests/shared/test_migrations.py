"""Each service's Alembic history builds exactly the schema its tables declare (on the suite's DB)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

SERVICES = ("enrollment", "notification", "reporting")


@pytest.mark.parametrize("svc", SERVICES)
def test_migrations_match_the_metadata(apps, svc):
    db = apps[svc].extensions["db"]  # the `apps` fixture migrated it to head
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    # SQLite cannot tell some server-side details apart; everything structural must match.
    structural = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("modify_default",))]
    assert structural == [], f"{svc}: run `make migration SERVICE={svc} MSG=...`: {structural}"
