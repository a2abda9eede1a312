"""App factory of the web app: ``create_app()`` composes the widget and the staff console."""

from __future__ import annotations

import itertools
from typing import Optional

from sanic import Sanic

from webapp.settings import WebSettings

_app_numbers = itertools.count()


def create_app(settings: Optional[WebSettings] = None) -> Sanic:
    settings = settings or WebSettings.from_env()
    # Sanic keeps a registry of app names; a fresh name per app lets tests build many.
    app = Sanic(f"assistant_web_{next(_app_numbers)}")
    app.ctx.settings = settings
    from webapp.widget import create_blueprint as widget_blueprint
    from webapp.staff import create_blueprint as staff_blueprint

    app.blueprint(widget_blueprint(settings))
    app.blueprint(staff_blueprint(settings))
    return app
