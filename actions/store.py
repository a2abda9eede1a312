"""The request store the action server's actions use (storage/requests.py).

The server configures it at start; outside the server (a test, a script) the first
use opens one for ``DATABASE_URL`` and migrates it.
"""

from __future__ import annotations

from typing import Optional

from storage.requests import RequestStore

_current: Optional[RequestStore] = None


def configure(store: Optional[RequestStore]) -> Optional[RequestStore]:
    """Make ``store`` the one actions use (the server at start; tests)."""
    global _current
    _current = store
    return store


def current() -> RequestStore:
    """The configured store; outside the server, one for DATABASE_URL, migrated on first use."""
    global _current
    if _current is None:
        from actions.settings import Settings

        store = RequestStore(Settings.from_env().database_url)
        store.migrate()
        _current = store
    return _current
