"""Starts the whole assistant, keeps it running, and stops it all together.

    python -m tools.launch --model models/X.tar.gz             # until Ctrl-C (make run)
    python -m tools.launch --model models/X.tar.gz --quiet -- CMD ...
                                                               # run CMD against it, then stop (make eval)

Services: the action server (actions.server, :5055), Rasa (:5005, REST and
socket.io channels) and the web app (webapp, :8000: widget page and staff console). Rasa's HTTP API stays off unless RASA_API_TOKEN or
RASA_JWT_SECRET is set. Telegram and Slack are on when their variables are set
(channels/settings.py): Rasa gets a credentials file written for this run.

All three listen on 127.0.0.1 unless RASA_HOST, ACTIONS_HOST or WEB_HOST say otherwise.
Rasa and the action server share ACTION_SERVER_TOKEN; without one, each run makes its own.

RASA_REPLICAS / ACTION_SERVERS above 1 (``make run-scaled``: 2 and 2, with PostgreSQL and
Redis) start that many of each behind nginx, which listens on the usual ports
(tools/scaled.py); every replica is supervised on its own.

A service that stops is restarted, after 1, 2, 4 ... (at most 30) s; one that stops
5 times in a row before answering stops the launcher (exit code 1). SIGTERM, SIGINT
(Ctrl-C) and SIGHUP stop every service and remove the credentials file (exit code 0;
with CMD: CMD's exit code, or 128 + the signal's number if CMD was still running).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from clinic import settings as clinic
from tools.processes import die_with_parent, stop_groups
from tools.services import (  # noqa: F401 - service_env and write_credentials: used by tests and tools
    LOOPBACK, Ports, Service, layout, local_url, service_env, write_credentials,
)

ROOT = Path(__file__).resolve().parent.parent
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

# Supervision. Back-off between restarts doubles from RESTART_DELAY up to RESTART_DELAY_MAX,
# so a crash loop does not burn the CPU, and starts over once a service has answered for
# STABLE_SECONDS. MAX_START_FAILURES exits in a row before answering mean a broken setup
# (a port taken, a bad setting): restarting for ever would only hide it.
RESTART_DELAY = 1.0
RESTART_DELAY_MAX = 30.0
STABLE_SECONDS = 60.0
MAX_START_FAILURES = 5
# What services get after SIGTERM before SIGKILL: less than Docker's default 10 s, after
# which Docker kills the launcher itself.
STOP_GRACE = 8.0
POLL_SECONDS = 0.2  # also how soon a signal is acted on


class StopRequested(BaseException):
    """A stop signal arrived; raised from the launcher's loops (never from the handler)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class ServiceFailed(RuntimeError):
    """A service keeps failing at start: the launcher gives up."""


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, HTTP error, not HTTP
        return False


def exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


def shell_code(code: int) -> int:
    """A child's exit code as a shell reports it: killed by signal N is 128 + N (Popen says -N)."""
    return 128 - code if code < 0 else code


def say(text: str, stream=None) -> None:
    """Print, but never fail: after SIGHUP the terminal may be gone and stopping must go on."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass


def web_problems(env) -> List[str]:
    """The web app's settings, checked before anything starts (a too light WIDGET_COLOR, an
    unknown CLINIC_TIMEZONE): said at once instead of as a web app that exits while starting."""
    from webapp.settings import WebSettings

    try:
        WebSettings.from_env(env)
    except ValueError as exc:
        return [str(exc)]
    return []


class Stack:
    """The assistant's processes on given ports: actions, Rasa and the web app.

    ``start()`` starts them and waits until each answers, ``supervise()`` (called in a loop)
    restarts one that stops, ``stop()`` stops them all. Each runs in its own process group,
    which is stopped as a whole.
    """

    def __init__(self, model: str, rasa_port: int = 5005, actions_port: int = 5055,
                 web_port: int = 8000, env: Optional[Dict[str, str]] = None,
                 log_dir: Optional[Path] = None) -> None:
        self.env = service_env({**(env or {}), "RASA_PORT": str(rasa_port),
                                "ACTIONS_PORT": str(actions_port), "WEB_PORT": str(web_port)})
        self.rasa_url = local_url(self.env["RASA_HOST"], rasa_port)
        self.actions_url = local_url(self.env["ACTIONS_HOST"], actions_port)
        self.web_url = local_url(self.env["WEB_HOST"], web_port)
        # Rasa calls the action server this stack starts, whatever the caller's environment says.
        self.env["ACTION_ENDPOINT_URL"] = f"{self.actions_url}/webhook"
        self.env.setdefault("RASA_PUBLIC_URL", self.rasa_url)
        # The console's staff relay calls go to this stack's Rasa (nginx when scaled out).
        self.env["RASA_INTERNAL_URL"] = self.rasa_url
        self.model, self.log_dir = model, log_dir
        # One file (and nginx folder) per stack, so parallel stacks (tests, `make run`) never share one.
        self.credentials = ROOT / ".data" / f"credentials-{os.getpid()}-{rasa_port}.yml"
        self.workdir = ROOT / ".data" / f"run-{os.getpid()}-{rasa_port}"
        self.ports = Ports(rasa_port, actions_port, web_port)
        self.services: List[Service] = layout(model, self.ports, self.env, self.credentials, self.workdir)
        self.start_timeout = 300.0
        self.stop_signal: Optional[int] = None

    @property
    def procs(self) -> List[subprocess.Popen]:
        """The services' current processes."""
        return [s.proc for s in self.services if s.proc is not None]

    # ---- stop requests: a signal handler only records the signal; the loops act on it ----

    def request_stop(self, signum: int) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum

    def check_stop(self) -> None:
        if self.stop_signal is not None:
            raise StopRequested(self.stop_signal)

    # ---- starting, supervising, stopping ----

    def start(self, timeout: float = 300) -> "Stack":
        from channels.settings import problems

        mistakes = problems(self.env) + clinic.scale_problems(self.env) + web_problems(self.env)
        if mistakes:
            raise RuntimeError("; ".join(mistakes))
        self.start_timeout = timeout
        try:
            write_credentials(self.env, self.credentials)
            for service in self.services:
                self._spawn(service)
            # The first start is not retried: a service that fails now is almost always
            # misconfigured, and its message is worth more than retries.
            deadline = time.monotonic() + timeout
            for service in self.services:
                while not answers(service.health):
                    self.check_stop()
                    for other in self.services:
                        code = other.proc.poll() if other.proc else None
                        if code is not None:
                            raise RuntimeError(f"{other.name} exited ({exit_text(code)}) while starting{self._log_hint(other)}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{service.health} did not answer within {timeout:.0f} s")
                    time.sleep(POLL_SECONDS)
                service.ready_since = time.monotonic()
        except BaseException:
            self.stop()
            raise
        return self

    def supervise(self) -> None:
        """One round of supervision; call it every POLL_SECONDS or so.

        Raises ServiceFailed when a service keeps failing at start."""
        now = time.monotonic()
        for service in self.services:
            proc = service.proc
            if proc is not None and proc.poll() is not None:
                self._restart_later(service, proc.returncode, now)
            elif proc is None and service.restart_at is not None and now >= service.restart_at:
                service.restart_at = None
                self._spawn(service)
            elif proc is not None and service.ready_since is None:
                if answers(service.health):
                    service.ready_since, service.start_failures = time.monotonic(), 0
                    say(f"{service.name} is back")
                elif now - service.started > self.start_timeout:
                    say(f"{service.name} did not answer within {self.start_timeout:.0f} s; stopping it", sys.stderr)
                    stop_groups([proc], grace=0)  # counted as a failed start on the next round

    def _restart_later(self, service: Service, code: int, now: float) -> None:
        # Whatever the leader left in its group (children holding the port) goes too.
        stop_groups([service.proc], grace=0)
        service.proc = None
        if service.ready_since is None:
            service.start_failures += 1
        elif now - service.ready_since >= STABLE_SECONDS:
            service.exits = 0
        service.ready_since = None
        service.exits += 1
        if service.start_failures >= MAX_START_FAILURES:
            raise ServiceFailed(f"{service.name} stopped {service.start_failures} times in a row before answering "
                                f"(last: {exit_text(code)}){self._log_hint(service)}")
        delay = min(RESTART_DELAY_MAX, RESTART_DELAY * 2 ** (service.exits - 1))
        say(f"{service.name} stopped ({exit_text(code)}); restarting in {delay:g} s")
        service.restart_at = now + delay

    def stop(self) -> None:
        stop_groups(self.procs, grace=STOP_GRACE)
        for service in self.services:
            service.proc, service.ready_since, service.restart_at = None, None, None
        self.credentials.unlink(missing_ok=True)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _spawn(self, service: Service) -> None:
        if service.prepare is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            service.prepare()
        out = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{service.name}.log", "ab")
        try:
            service.proc = subprocess.Popen(
                service.cmd, cwd=ROOT, env={**self.env, **service.env}, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, preexec_fn=die_with_parent())
        finally:
            if out is not None:
                out.close()  # the child has its own copy
        service.started, service.ready_since = time.monotonic(), None

    def _log_hint(self, service: Service) -> str:
        return f"; see {self.log_dir / (service.name + '.log')}" if self.log_dir else ""

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
            *self.describe_scale(),
            "  Terminal chat: make shell    Stop: Ctrl-C",
            "",
        ])

    def describe_scale(self) -> List[str]:
        replicas = [s.name for s in self.services if s.name.startswith("rasa-")]
        servers = [s.name for s in self.services if s.name.startswith("actions-")]
        if not replicas and not servers:
            return []
        return [f"  Scaled out:     {len(replicas) or 1} Rasa replica(s) and {len(servers) or 1} action "
                f"server(s) behind nginx; lock store: Redis {self.env.get('REDIS_HOST', '')}"]

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
    parser.add_argument("--quiet", action="store_true", help="send service logs to files (.data/logs/)")
    parser.add_argument("--log-dir", type=Path, help="send service logs to files in this folder (implies --quiet)")
    parser.add_argument("command", nargs="*", help="run this, then stop everything")
    args = parser.parse_args(argv)

    env = service_env()
    try:
        stack = Stack(
            args.model,
            rasa_port=int(env.get("RASA_PORT", "5005")),
            actions_port=int(env.get("ACTIONS_PORT", "5055")),
            web_port=int(env.get("WEB_PORT", "8000")),
            log_dir=(args.log_dir or ROOT / ".data" / "logs") if args.quiet or args.log_dir else None,
        )
    except (clinic.SettingError, ValueError) as exc:  # e.g. RASA_REPLICAS=many, RASA_PORT=x
        say(f"Could not start the assistant: {exc}", sys.stderr)
        return 1
    # Before the first child exists, so that no signal can leave one behind.
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda number, _frame: stack.request_stop(number))
    command: Optional[subprocess.Popen] = None
    try:
        stack.start()
        say(stack.describe())
        if args.command:
            command = subprocess.Popen(args.command, env=stack.env)
        while True:
            stack.check_stop()
            if command is not None and command.poll() is not None:
                return shell_code(command.returncode)
            stack.supervise()
            time.sleep(POLL_SECONDS)
    except StopRequested as stop:
        say(f"\nStopping ({signal.Signals(stop.signum).name}) ...")
        if command is None:
            return 0
        # A stopped CMD did not finish: never report its run as a success (make eval's gate).
        return shell_code(command.returncode) if command.poll() is not None else 128 + stop.signum
    except ServiceFailed as exc:
        say(f"Stopping the assistant: {exc}", sys.stderr)
        return 1
    except RuntimeError as exc:
        say(f"Could not start the assistant: {exc}", sys.stderr)
        return 1
    finally:
        if command is not None and command.poll() is None:
            stop_groups([command], grace=STOP_GRACE, group=False)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
