"""Starts the action server after loading the guide and migrating the request tables.

``python -m actions.server`` is what ``make run`` uses instead of ``rasa run actions``:
it checks the knowledge files and the settings first and exits with a clear message
if one is missing or malformed, rather than failing on the first patient's question.
It then brings the request tables up to date (Alembic, migrations/requests/) and,
while serving, runs one background loop: due "forget me" purges every second and
due staff-notification retries every NOTIFY_RETRY_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from actions import http_guard, notify, resources, store as action_store
from guide.parsing import KnowledgeFileError
from actions.settings import SettingsError
from storage.forgetting import run_due_purges
from storage.requests import RequestStore

logger = logging.getLogger(__name__)

PURGE_POLL_SECONDS = 1.0
NOTIFY_RETRY_POLL_SECONDS = 30.0


async def background_loop(store: RequestStore, notifier: notify.Notifier) -> None:
    """Purges and notification retries, off the event loop; a failure is logged, never fatal."""
    loop = asyncio.get_running_loop()
    next_retry = time.monotonic()
    while True:
        try:
            await loop.run_in_executor(None, run_due_purges, store)
            if time.monotonic() >= next_retry:
                next_retry = time.monotonic() + NOTIFY_RETRY_POLL_SECONDS
                await loop.run_in_executor(None, notifier.retry_due)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
            logger.exception("Background job failed; trying again shortly")
        await asyncio.sleep(PURGE_POLL_SECONDS)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        loaded = resources.load()
    except (KnowledgeFileError, SettingsError) as exc:
        print(f"Action server not started: {exc}", file=sys.stderr)
        return 2
    guide = loaded.guide
    logger.info(
        "Loaded the guide %s: %d sections, %d items",
        guide.path,
        len(guide.sections),
        sum(len(s.items) for s in guide.sections.values()),
    )
    settings = loaded.settings
    store = RequestStore(settings.database_url)
    try:
        store.migrate()
    except Exception as exc:  # noqa: BLE001 - any database or migration error stops the start
        print(f"Action server not started: cannot prepare the request tables "
              f"({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    action_store.configure(store)
    specialists = [i.title for i in guide.section("specialists").items]
    notifier = notify.configure(notify.Notifier(settings, store, specialists))
    logger.info("Request store ready (%s); staff notifications: %s", store.dialect,
                ", ".join(notifier.channels) or "off")

    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager
    from rasa_sdk.utils import number_of_sanic_workers

    app = create_app("actions")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    http_guard.install(app, settings.action_server_token)

    @app.after_server_start
    async def start_background(app_, _loop) -> None:
        app_.add_task(background_loop(store, notifier))

    logger.info("Action server on %s:%d; token %s", settings.actions_host, settings.actions_port,
                "required" if settings.action_server_token else "not set (loopback only)")
    app.run(settings.actions_host, settings.actions_port, workers=number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
