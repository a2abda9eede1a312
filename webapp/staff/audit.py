"""The console's audit log: who did what, when, from where (table ``staff_audit_log``).

The engine, migrations, time and hashing the console shares with the action server
live in the ``storage`` package.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import sqlalchemy as sa

from storage.time import utcnow
from webapp.staff import tables as t

AUDIT_PAGE = 100


def audit(connection, actor: str, action: str, target: Optional[str] = None,
          detail: Optional[str] = None, ip: Optional[str] = None) -> None:
    connection.execute(t.audit_log.insert().values(
        at=utcnow(), actor=actor[:100], action=action[:40],
        target=None if target is None else target[:255],
        detail=detail, ip=None if ip is None else ip[:64],
    ))


def read_log(conn, action: str, page: int) -> Tuple[int, int, list, List[str]]:
    """(number of entries, pages, one page of entries newest first, actions logged) of the
    audit log, only ``action`` entries if given; a page past the last shows the last."""
    a = t.audit_log.c
    conds = [a.action == action] if action else []
    total = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log).where(*conds)).scalar_one()
    pages = max(1, -(-total // AUDIT_PAGE))
    entries = conn.execute(sa.select(t.audit_log).where(*conds).order_by(a.id.desc())
                           .limit(AUDIT_PAGE).offset((min(page, pages) - 1) * AUDIT_PAGE)).all()
    actions = [r[0] for r in conn.execute(sa.select(a.action).distinct().order_by(a.action))]
    return total, pages, entries, actions
