"""Staff console (/staff): conversation review, corrections to training data, the request
queue and a dashboard. ``create_blueprint(settings)`` is registered by webapp.app.create_app."""

from webapp.staff.views import create_blueprint

__all__ = ["create_blueprint"]
