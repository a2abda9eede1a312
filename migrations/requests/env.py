"""Alembic environment of the request tables (version table alembic_version_requests).

The action server runs it through storage.requests.RequestStore.migrate() on start,
which passes its connection in ``config.attributes["connection"]``. From the command
line (``alembic -c migrations/requests/alembic.ini revision -m "..."`` to start a new
revision, ``... upgrade head`` to apply) it connects to DATABASE_URL.
"""

import sqlalchemy as sa
from alembic import context

VERSION_TABLE = "alembic_version_requests"


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite can only ALTER tables through batch copies
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from clinic.settings import database_url

    engine = sa.create_engine(database_url())
    with engine.begin() as conn:
        run(conn)
