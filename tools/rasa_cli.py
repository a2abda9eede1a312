"""``rasa`` with telemetry and crash reporting switched off, and this project's additions.

Rasa Open Source sends usage telemetry (Segment) unless RASA_TELEMETRY_ENABLED is
false, and sends crash reports to Sentry whenever its packaged key file is present,
whatever the telemetry setting. A patient assistant must not phone home, so every
Makefile command runs Rasa through this module: ``python -m tools.rasa_cli <args>``.
It also installs ``rasa_ext`` (replies without the action server, no version banner).
"""

from __future__ import annotations

import os
import sys


def default_environment() -> None:
    """What endpoints.yml refers to, with the defaults of clinic/settings.py, so that Rasa's
    commands work without the Makefile's help."""
    from clinic import settings as clinic

    os.environ["DATABASE_URL"] = clinic.database_url()
    os.environ["ACTION_ENDPOINT_URL"] = clinic.action_endpoint_url()
    os.environ.setdefault("ACTION_SERVER_TOKEN", "")


def skip_unused_imports() -> None:
    """TensorFlow 2.12 imports ``jax`` (a dependency it declares) only for its TFLite
    converter, which Rasa never calls; the import added 65-95 MB to every Rasa process
    (measured side by side, model loaded both ways, 2026-12-03) and took 0.54 s on its own. Marking it absent makes TensorFlow's own ``try: import jax`` take its
    ``ImportError`` branch."""
    sys.modules.setdefault("jax", None)


def disable_phoning_home() -> None:
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    import rasa.telemetry

    rasa.telemetry.initialize_error_reporting = lambda: None


def main() -> None:
    skip_unused_imports()
    disable_phoning_home()
    default_environment()
    import rasa_ext

    rasa_ext.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
