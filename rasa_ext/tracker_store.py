"""Rasa's SQL tracker store without its exit on any ``ValueError``.

Rasa 3.6's ``SQLTrackerStore.session_scope`` checks the PostgreSQL schema and then
yields the session inside one ``try ... except ValueError``, exiting the whole server
("Requested PostgreSQL schema ... was not found") on *any* ``ValueError`` raised while
the session is in use. A ``UnicodeEncodeError`` is a ``ValueError``: one message or
sender id holding a lone surrogate stopped the assistant for everybody. Here only the
schema check can end the process; any other error fails that one turn.
"""

from __future__ import annotations

import contextlib
from typing import Any, Generator

from rasa.core.tracker_store import SQLTrackerStore

STOCK_SESSION_SCOPE = SQLTrackerStore.session_scope  # kept for the test that shows the old behaviour


@contextlib.contextmanager
def session_scope(self: Any) -> Generator[Any, None, None]:
    import rasa.shared.utils.cli
    from rasa.core.tracker_store import POSTGRESQL_SCHEMA, ensure_schema_exists

    session = self.sessionmaker()
    try:
        try:
            ensure_schema_exists(session)
        except ValueError as e:
            rasa.shared.utils.cli.print_error_and_exit(
                f"Requested PostgreSQL schema '{e}' was not found in the database. Create it, "
                f"or unset {POSTGRESQL_SCHEMA} to use the default schema. Exiting application.")
        yield session
    finally:
        session.close()


def install() -> None:
    SQLTrackerStore.session_scope = session_scope
