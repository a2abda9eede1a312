"""Create a staff console account (``make staff-user NAME=<name> ROLE=admin|desk|reviewer``).

    python -m tools.staff_user --name alice --role admin
    python -m tools.staff_user --name alice --role admin --reset   # new password for an existing account

The password comes from STAFF_PASSWORD when set, otherwise it is asked twice on
the terminal. The account lives in the database of DATABASE_URL.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import List, Optional


def read_password(env=os.environ, prompt=getpass.getpass, interactive: Optional[bool] = None) -> str:
    if env.get("STAFF_PASSWORD"):
        return env["STAFF_PASSWORD"]
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise SystemExit("Set STAFF_PASSWORD or run this in a terminal to type the password.")
    first = prompt("Password: ")
    if first != prompt("Password again: "):
        raise SystemExit("The passwords differ; nothing was changed.")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="user name for logging in")
    parser.add_argument("--role", required=True, choices=["admin", "desk", "reviewer"])
    parser.add_argument("--reset", action="store_true",
                        help="if the account exists, set this password and role (and reactivate it)")
    args = parser.parse_args(argv)

    from webapp.settings import WebSettings
    from webapp.staff.accounts import AccountError, check_password, check_username, create_user
    from storage.engine import create_engine, migrate

    try:
        name = check_username(args.name)
        password = check_password(read_password())
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = WebSettings.from_env()
    engine = create_engine(settings.database_url)
    try:
        migrate(engine, "staff")
        with engine.begin() as conn:
            done = create_user(conn, name, password, args.role, actor="cli", reset=args.reset)
    except AccountError as exc:
        print(f"{exc} Use --reset to give it a new password.", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Account {name} ({args.role}) {done}. Log in at http://localhost:{settings.port}/staff/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
