"""Starts the whole assistant, waits until it answers, and stops it all together.

    python -m tools.launch --model models/X.tar.gz             # until Ctrl-C (make run)
    python -m tools.launch --model models/X.tar.gz --quiet -- CMD ...
                                                               # run CMD against it, then stop (make eval)

Services: the action server (actions.server, :5055) and Rasa (:5005, REST and
socket.io channels). Rasa's HTTP API stays off unless RASA_API_TOKEN or
RASA_JWT_SECRET is set.
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

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///.data/assistant.db"


def service_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def rasa_command(model: str, port: int, env: Dict[str, str]) -> List[str]:
    cmd = [
        sys.executable, "-m", "tools.rasa_cli", "run",
        "--model", model, "--port", str(port),
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
    ]
    if env.get("RASA_API_TOKEN"):
        cmd += ["--enable-api", "--auth-token", env["RASA_API_TOKEN"]]
    elif env.get("RASA_JWT_SECRET"):
        cmd += ["--enable-api", "--jwt-secret", env["RASA_JWT_SECRET"]]
    return cmd


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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument("--quiet", action="store_true", help="send service logs to .data/logs/")
    parser.add_argument("command", nargs="*", help="run this, then stop everything")
    args = parser.parse_args(argv)

    env = service_env()
    os.chdir(ROOT)
    (ROOT / ".data" / "logs").mkdir(parents=True, exist_ok=True)
    actions_port = int(env.get("ACTIONS_PORT", "5055"))
    services = [
        ("actions", [sys.executable, "-m", "actions.server"]),
        ("rasa", rasa_command(args.model, args.rasa_port, env)),
    ]
    procs: List[subprocess.Popen] = []
    try:
        for name, cmd in services:
            out = open(ROOT / ".data" / "logs" / f"{name}.log", "ab") if args.quiet else None
            procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True))
        wait_for(f"http://localhost:{actions_port}/health", 120, procs)
        wait_for(f"http://localhost:{args.rasa_port}/", 300, procs)
        channels = ["REST: POST http://localhost:%d/webhooks/rest/webhook" % args.rasa_port,
                    "socket.io: http://localhost:%d/socket.io" % args.rasa_port]
        api = "on (token)" if env.get("RASA_API_TOKEN") else "on (JWT)" if env.get("RASA_JWT_SECRET") else "off"
        print("\nThe assistant is running.", flush=True)
        for line in channels:
            print(f"  {line}")
        print(f"  Rasa HTTP API: {api}; tracker store: {env['DATABASE_URL'].split('://')[0]}")
        print("  Terminal chat: make shell    Stop: Ctrl-C\n", flush=True)
        if args.command:
            return subprocess.call(args.command, env=env)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        failed = [p for p in procs if p.poll() is not None]
        print(f"{failed[0].args[2]} stopped with exit code {failed[0].returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"Could not start the assistant: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
