"""The staff console's state: database engine, summaries, templates, domain names."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.engine import Engine

from webapp.settings import WebSettings
from storage.engine import create_engine, migrate
from storage.time import aware
from webapp.staff.common import configure_timezone, local, zone_name
from webapp.staff.summary import Refresher

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
T = TypeVar("T")


def fmt_dt(value: Optional[datetime]) -> str:
    value = aware(value)
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def load_domain_names(path: str) -> Tuple[List[str], List[str]]:
    """Intents and entities declared in the domain file or folder (empty if unreadable)."""
    root = Path(path)
    root = root if root.is_absolute() else ROOT / root
    files = sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml")) if root.is_dir() else [root]
    intents, entities = set(), set()
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            logger.warning("domain file %s not read: %s", file, exc)
            continue
        if not isinstance(data, dict):
            continue
        for key, bucket in (("intents", intents), ("entities", entities)):
            for item in data.get(key) or []:
                if isinstance(item, str):
                    bucket.add(item)
                elif isinstance(item, dict):
                    bucket.update(k for k in item if isinstance(k, str))
    return sorted(intents), sorted(entities)


def load_intent_help(path: Path = HERE / "intents.yml") -> Dict[str, str]:
    """Plain descriptions of the intents (webapp/staff/intents.yml) for the correction form."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("intent descriptions not read: %s", exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class Console:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.engine: Optional[Engine] = None
        self.refresher: Optional[Refresher] = None
        self.intents: List[str] = []
        self.intent_help: Dict[str, str] = {}
        self.entities: List[str] = []
        self.templates = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals["fmt_dt"] = fmt_dt
        self.templates.globals["tz"] = zone_name

    def start(self) -> None:
        """Connect, migrate the staff tables and build the summaries (blocking)."""
        configure_timezone(self.settings.clinic_timezone)
        self.engine = create_engine(self.settings.database_url)
        migrate(self.engine, "staff")
        self.refresher = Refresher(self.engine)
        intents, self.entities = load_domain_names(self.settings.domain_path)
        # EXTERNAL_ intents are events (reminders), never what a patient wrote
        self.intents = [name for name in intents if not name.startswith("EXTERNAL_")]
        self.intent_help = load_intent_help()
        self.refresher.refresh()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def tx(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``func(connection, ...)`` in one transaction."""
        assert self.engine is not None, "the console has not started"
        with self.engine.begin() as conn:
            return func(conn, *args, **kwargs)

    def refresh(self) -> None:
        assert self.refresher is not None
        self.refresher.refresh()

    def render(self, name: str, **context: Any) -> str:
        return self.templates.get_template(name).render(**context)
