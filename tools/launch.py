"""Starts the whole assistant, waits until it answers, and stops it all together.

    python -m tools.launch --model models/X.tar.gz             # until Ctrl-C (make run)
    python -m tools.launch --model models/X.tar.gz --quiet -- CMD ...
                                                               # run CMD against it, then stop (make eval)

Services: the action server (actions.server, :5055), Rasa (:5005, REST and
socket.io channels) and the web app (webapp, :8000: widget page and staff console). Rasa's HTTP API stays off unless RASA_API_TOKEN or
RASA_JWT_SECRET is set. Telegram and Slack are on when their variables are set
(channels/settings.py): Rasa gets a credentials file written for this run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///.data/assistant.db"


def service_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("ACTIONS_PORT", "5055")
    env.setdefault("ACTION_ENDPOINT_URL", f"http://localhost:{env['ACTIONS_PORT']}/webhook")
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def rasa_command(model: str, port: int, env: Dict[str, str], credentials: str = "credentials.yml") -> List[str]:
    cmd = [
        sys.executable, "-m", "tools.rasa_cli", "run",
        "--model", model, "--port", str(port),
        "--endpoints", "endpoints.yml", "--credentials", credentials,
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


def wait_for(url: str, seconds: float, procs: List[subprocess.Popen]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(proc.args[:4])} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def stop(procs: List[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class Stack:
    """The assistant's processes on given ports: actions, Rasa and the web app."""

    def __init__(self, model: str, rasa_port: int = 5005, actions_port: int = 5055,
                 web_port: int = 8000, env: Optional[Dict[str, str]] = None,
                 log_dir: Optional[Path] = None) -> None:
        self.env = service_env()
        self.env.update(env or {})
        self.env["ACTIONS_PORT"] = str(actions_port)
        self.env["ACTION_ENDPOINT_URL"] = f"http://localhost:{actions_port}/webhook"
        self.env["WEB_PORT"] = str(web_port)
        self.env.setdefault("RASA_PUBLIC_URL", f"http://localhost:{rasa_port}")
        self.model, self.log_dir = model, log_dir
        # One file per stack, so parallel stacks (tests, `make run`) never share one.
        self.credentials = ROOT / ".data" / f"credentials-{os.getpid()}-{rasa_port}.yml"
        self.rasa_url = f"http://localhost:{rasa_port}"
        self.actions_url = f"http://localhost:{actions_port}"
        self.web_url = f"http://localhost:{web_port}"
        self.services = [
            ("actions", [sys.executable, "-m", "actions.server"], f"{self.actions_url}/health"),
            ("rasa", rasa_command(model, rasa_port, self.env, str(self.credentials)), f"{self.rasa_url}/"),
            ("web", [sys.executable, "-m", "webapp"], f"{self.web_url}/health"),
        ]
        self.procs: List[subprocess.Popen] = []

    def start(self, timeout: float = 300) -> "Stack":
        from channels.settings import problems

        mistakes = problems(self.env)
        if mistakes:
            raise RuntimeError("; ".join(mistakes))
        try:
            write_credentials(self.env, self.credentials)
            for name, cmd, _ in self.services:
                out = None
                if self.log_dir:
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    out = open(self.log_dir / f"{name}.log", "ab")
                self.procs.append(subprocess.Popen(
                    cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True))
            for _, _, health in self.services:
                wait_for(health, timeout, self.procs)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop(self.procs)
        self.procs = []
        self.credentials.unlink(missing_ok=True)

    def describe(self) -> str:
        api = ("on (token)" if self.env.get("RASA_API_TOKEN")
               else "on (JWT)" if self.env.get("RASA_JWT_SECRET") else "off")
        return "\n".join([
            "",
            "The assistant is running:",
            f"  Website widget and demo page: {self.web_url}/",
            f"  Staff console:                {self.web_url}/staff/",
            f"  REST channel:   POST {self.rasa_url}/webhooks/rest/webhook",
            f"  socket.io:      {self.rasa_url}/socket.io",
            *self.describe_channels(),
            f"  Rasa HTTP API: {api}; database: {self.env['DATABASE_URL'].split('://')[0]}",
            "  Terminal chat: make shell    Stop: Ctrl-C",
            "",
        ])

    def describe_channels(self) -> List[str]:
        from channels.settings import OPTIONAL_CHANNELS

        lines = []
        for spec in OPTIONAL_CHANNELS:
            label = f"  {spec.name.title() + ':':<15}"
            if spec.state(self.env) == "on":
                lines.append(f"{label} on, webhook POST {self.rasa_url}{spec.webhook_path}")
            else:
                lines.append(f"{label} off (set {', '.join(spec.required.values())})")
        return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--quiet", action="store_true", help="send service logs to .data/logs/")
    parser.add_argument("command", nargs="*", help="run this, then stop everything")
    args = parser.parse_args(argv)

    env = service_env()
    stack = Stack(
        args.model,
        rasa_port=int(env.get("RASA_PORT", "5005")),
        actions_port=int(env.get("ACTIONS_PORT", "5055")),
        web_port=int(env.get("WEB_PORT", "8000")),
        log_dir=ROOT / ".data" / "logs" if args.quiet else None,
    )
    try:
        stack.start()
        print(stack.describe(), flush=True)
        if args.command:
            return subprocess.call(args.command, env=stack.env)
        while all(p.poll() is None for p in stack.procs):
            time.sleep(1)
        failed = next(p for p in stack.procs if p.poll() is not None)
        print(f"{' '.join(failed.args[:3])} stopped with exit code {failed.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"Could not start the assistant: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
