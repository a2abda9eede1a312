"""Alembic environment of the staff console's tables (version table alembic_version_staff).

Run by storage.engine.migrate(engine, "staff") on start, which passes the connection in
``config.attributes["connection"]``.
"""

from alembic import context

VERSION_TABLE = "alembic_version_staff"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the staff migrations through storage.engine.migrate(engine, 'staff')")

context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite can only ALTER tables through batch copies
)
with context.begin_transaction():
    context.run_migrations()
