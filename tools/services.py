"""What the launcher runs: the services' environment, their commands, and the layout
(one process each, or several Rasa replicas and action servers behind nginx:
tools/scaled.py). Supervising them is tools/launch.py's job."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional

import yaml

from clinic import settings as clinic
from tools import scaled

LOOPBACK = "127.0.0.1"
ENDPOINTS = "endpoints.yml"


def local_url(host: str, port: object) -> str:
    """Where this machine reaches a service bound to ``host``: a wildcard bind is reached on loopback."""
    host = host.strip()
    if host in ("", "0.0.0.0"):
        host = LOOPBACK
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def service_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The services' environment: this process's, then ``extra``, then the defaults."""
    env = dict(os.environ)
    env.update(extra or {})
    env["DATABASE_URL"] = clinic.database_url(env)
    env.setdefault("ACTIONS_PORT", str(clinic.DEFAULT_ACTIONS_PORT))
    # Loopback unless told otherwise: the services have no TLS and the action server and the
    # web app trust their callers, so opening them to the network must be a decision.
    for name in ("RASA_HOST", "ACTIONS_HOST", "WEB_HOST"):
        if not env.get(name, "").strip():
            env[name] = LOOPBACK
    env.setdefault("ACTION_ENDPOINT_URL", f"{local_url(env['ACTIONS_HOST'], env['ACTIONS_PORT'])}/webhook")
    # One secret per run shared by Rasa and the action server, so that no other local
    # process can call the actions. Never printed.
    if not env.get("ACTION_SERVER_TOKEN", "").strip():
        env["ACTION_SERVER_TOKEN"] = secrets.token_urlsafe(32)
    # The same for the staff console and Rasa's staff relay (live take-over).
    if not env.get("STAFF_RELAY_TOKEN", "").strip():
        env["STAFF_RELAY_TOKEN"] = secrets.token_urlsafe(32)
    if clinic.redis_host(env):  # deploy/endpoints.scale.yml refers to all three
        env["REDIS_PORT"], env["REDIS_DB"] = clinic.redis_port(env), clinic.redis_db(env)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def rasa_command(model: str, port: int, env: Dict[str, str], credentials: str = "credentials.yml",
                 endpoints: str = ENDPOINTS, interface: Optional[str] = None) -> List[str]:
    cmd = [
        sys.executable, "-m", "tools.rasa_cli", "run",
        "--model", model, "--interface", interface or env.get("RASA_HOST", "").strip() or LOOPBACK,
        "--port", str(port), "--endpoints", endpoints, "--credentials", credentials,
    ]
    if env.get("RASA_API_TOKEN"):
        cmd += ["--enable-api", "--auth-token", env["RASA_API_TOKEN"]]
    elif env.get("RASA_JWT_SECRET"):
        cmd += ["--enable-api", "--jwt-secret", env["RASA_JWT_SECRET"]]
    return cmd


def write_credentials(env: Dict[str, str], path: Path) -> None:
    """Rasa's credentials for this environment: REST and socket.io always, Telegram and Slack
    when their variables are set. Secrets stay ``${VAR}`` references, filled in by Rasa."""
    from channels.settings import credentials

    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by tools/launch.py for one run; edit channels/settings.py instead.\n"
    path.write_text(header + yaml.safe_dump(credentials(env), sort_keys=False), encoding="utf-8")




@dataclass
class Service:
    name: str
    cmd: List[str]
    health: str
    proc: Optional[subprocess.Popen] = None
    started: float = 0.0  # monotonic time of the last start
    ready_since: Optional[float] = None  # when it last answered its health URL (None: not yet)
    exits: int = 0  # exits in a row without a stable run: sets the back-off
    start_failures: int = 0  # exits in a row before answering: MAX_START_FAILURES gives up
    restart_at: Optional[float] = None
    env: Dict[str, str] = field(default_factory=dict)  # on top of the stack's environment
    prepare: Optional[Callable[[], object]] = None  # run before each start (e.g. write a config)


@dataclass(frozen=True)
class Ports:
    rasa: int
    actions: int
    web: int


def layout(model: str, ports: Ports, env: Dict[str, str], credentials: Path, workdir: Path) -> List[Service]:
    """The services for this environment, in start order (each answers before the next is
    waited for): action servers, Rasa, the web app, and nginx in front when scaled."""
    replicas, servers = clinic.rasa_replicas(env), clinic.action_servers(env)
    actions_url = local_url(env["ACTIONS_HOST"], ports.actions)
    rasa_url = local_url(env["RASA_HOST"], ports.rasa)
    web = Service("web", [sys.executable, "-m", "webapp"], f"{local_url(env['WEB_HOST'], ports.web)}/health")
    if replicas == 1 and servers == 1:
        return [
            Service("actions", [sys.executable, "-m", "actions.server"], f"{actions_url}/health"),
            Service("rasa", rasa_command(model, ports.rasa, env, str(credentials)), f"{rasa_url}/"),
            web,
        ]
    # Behind nginx every replica listens on loopback only; nginx listens where the single
    # process would have.
    rasa_ports = scaled.replica_ports(ports.rasa, replicas)
    action_ports = scaled.replica_ports(ports.actions, servers)
    config = workdir / "nginx.conf"
    services = [
        Service(f"actions-{i + 1}", [sys.executable, "-m", "actions.server"],
                f"http://{LOOPBACK}:{port}/health", env={"ACTIONS_PORT": str(port), "ACTIONS_HOST": LOOPBACK})
        for i, port in enumerate(action_ports)
    ]
    # The Redis lock store only when several replicas share conversations.
    endpoints = scaled.ENDPOINTS if replicas > 1 else ENDPOINTS
    services += [
        Service(f"rasa-{i + 1}", rasa_command(model, port, env, str(credentials), endpoints, LOOPBACK),
                f"http://{LOOPBACK}:{port}/")
        for i, port in enumerate(rasa_ports)
    ]
    services.append(Service(
        "nginx", scaled.nginx_command(config), f"{rasa_url}/",
        prepare=lambda: scaled.write_nginx_config(workdir, env["RASA_HOST"], ports.rasa, rasa_ports,
                                                  ports.actions, action_ports)))
    return services + [web]
