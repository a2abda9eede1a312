"""``python -m webapp``: serve the widget page and the staff console (WEB_PORT, default 8000)."""

from webapp.app import create_app


def main() -> None:
    app = create_app()
    app.run(host=app.ctx.settings.host, port=app.ctx.settings.port, access_log=False)


if __name__ == "__main__":
    main()
