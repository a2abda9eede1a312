"""The console's audit log: who did what, when, from where (table ``staff_audit_log``).

The engine, migrations, time and hashing the console shares with the action server
live in the ``storage`` package.
"""

from __future__ import annotations

from typing import Optional

from storage.time import utcnow
from webapp.staff import tables as t


def audit(connection, actor: str, action: str, target: Optional[str] = None,
          detail: Optional[str] = None, ip: Optional[str] = None) -> None:
    connection.execute(t.audit_log.insert().values(
        at=utcnow(), actor=actor[:100], action=action[:40],
        target=None if target is None else target[:255],
        detail=detail, ip=None if ip is None else ip[:64],
    ))
