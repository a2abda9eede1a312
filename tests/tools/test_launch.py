"""The launcher (tools/launch.py): stop signals, supervision, binding and the action server token.

Most tests run ``python -m tools.launch`` for real, as ``make run`` does: real processes on
free loopback ports, each launcher with its own SQLite database in a temporary folder.
Every process a launcher starts inherits a marker in its environment, so a test can find
(and in the end kill) all of them, even ones a broken launcher left behind as orphans.

The model: ASSISTANT_MODEL as in tests/e2e (``make test`` sets it), else the newest
models/assistant-*.tar.gz; without either the tests are skipped like the e2e tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.support import free_port
from tools import launch

ROOT = Path(__file__).resolve().parents[2]
READY = "The assistant is running:"
START_TIMEOUT = 120.0  # the model loads in ~10-20 s; a busy machine takes longer
SERVICES = {"actions": "actions.server", "rasa": "tools.rasa_cli", "web": "webapp"}
# Settings from the caller's shell that would change what these tests check.
CLEARED = ("RASA_HOST", "ACTIONS_HOST", "WEB_HOST", "ACTION_SERVER_TOKEN", "ACTION_ENDPOINT_URL",
           "RASA_PUBLIC_URL", "RASA_API_TOKEN", "RASA_JWT_SECRET")


@pytest.fixture(scope="module")
def model_path() -> str:
    model = os.environ.get("ASSISTANT_MODEL")
    if model:
        if not Path(model).exists():
            pytest.fail(f"ASSISTANT_MODEL={model} does not exist")
        return model
    trained = sorted(ROOT.glob("models/assistant-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not trained:
        pytest.skip("the launcher tests need a trained model: run them with `make test`")
    return str(trained[-1])


# ---- looking at processes and ports (Linux /proc) ------------------------------------------

def stat_fields(pid: int) -> Optional[List[str]]:
    """state, ppid, pgrp, ... of a process; None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie is dead, only unreaped


def all_pids() -> List[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def environ(pid: int) -> Dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def port_free(port: int) -> bool:
    """Whether a server could listen on the port now (as a restarted service would)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
        return True


def listening_on(port: int) -> List[str]:
    """The addresses something listens on at this TCP port (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:
                    found.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))
                    found.append(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---- one launcher ---------------------------------------------------------------------------

class Launcher:
    """``python -m tools.launch`` as a subprocess, its output collected line by line."""

    def __init__(self, model: str, folder: Path, *args: str) -> None:
        self.marker = uuid.uuid4().hex
        self.ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
        self.db = folder / "assistant.db"
        env = {k: v for k, v in os.environ.items()
               if k not in CLEARED and not k.startswith(("TELEGRAM_", "SLACK_"))}
        env.update(RASA_PORT=str(self.ports["rasa"]), ACTIONS_PORT=str(self.ports["actions"]),
                   WEB_PORT=str(self.ports["web"]), DATABASE_URL=f"sqlite:///{self.db}",
                   EMERGENCY_NUMBER="112", PYTHONUNBUFFERED="1", LAUNCH_TEST_MARKER=self.marker)
        self.lines: List[str] = []
        self._eof = False
        self._changed = threading.Condition()
        # Its own session, like a service manager's child, so signals from the terminal
        # running pytest do not reach it: the tests send them.
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.launch", "--model", model, *args],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.credentials = ROOT / ".data" / f"credentials-{self.proc.pid}-{self.ports['rasa']}.yml"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def tail(self, count: int = 60) -> str:
        return "\n".join(self.lines[-count:])

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> int:
        """Index of the first output line from ``start`` on that matches ``pattern``."""
        regex, deadline, exited = re.compile(pattern), time.monotonic() + timeout, None
        with self._changed:
            while True:
                for index in range(start, len(self.lines)):
                    if regex.search(self.lines[index]):
                        return index
                start = len(self.lines)
                if exited is None and self.proc.poll() is not None:
                    exited = time.monotonic()
                # After the launcher's exit, its last lines (or orphans' output) get a second.
                if time.monotonic() > deadline or (exited and (self._eof or time.monotonic() - exited > 1)):
                    raise AssertionError(f"no line matching {pattern!r} within {timeout:.0f} s "
                                         f"(launcher exit code {self.proc.poll()}); output:\n{self.tail()}")
                self._changed.wait(0.2)

    def ready(self) -> "Launcher":
        self.wait_for(re.escape(READY), START_TIMEOUT)
        return self

    def service_pids(self) -> Dict[str, int]:
        """The launcher's services by name: its child processes."""
        pids = {}
        for pid in all_pids():
            fields = stat_fields(pid)
            if fields and fields[1] == str(self.proc.pid) and alive(pid):
                for name, module in SERVICES.items():
                    if f"-m {module} " in cmdline(pid) + " ":
                        pids[name] = pid
        return pids

    def descendants(self) -> List[int]:
        """Every live process this launcher started, directly or not (the launcher excluded)."""
        return [pid for pid in all_pids() if pid != self.proc.pid and alive(pid)
                and environ(pid).get("LAUNCH_TEST_MARKER") == self.marker]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def kill_all(self) -> None:
        """Whatever happened: ask the launcher to stop, then kill all that is left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(5):
            left = [pid for pid in [self.proc.pid, *self.descendants()] if alive(pid)]
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        self.proc.wait(timeout=10)
        self.credentials.unlink(missing_ok=True)


def assert_all_stopped(launcher: Launcher, within: float = 5) -> None:
    """Nothing the launcher started runs, its ports are free, its credentials file is gone."""
    assert wait_until(lambda: not launcher.descendants(), within), \
        f"still running: {[(pid, cmdline(pid)) for pid in launcher.descendants()]}\n{launcher.tail()}"
    for port in launcher.ports.values():
        assert wait_until(lambda: port_free(port), 5), f"port {port} is still taken"
    assert not launcher.credentials.exists(), f"{launcher.credentials} was left behind"


def kill_group(pid: int) -> None:
    os.killpg(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid), 10)


def rest_turn(launcher: Launcher, sender: str, text: str) -> list:
    request = urllib.request.Request(f"{launcher.url('rasa')}/webhooks/rest/webhook",
                                     json.dumps({"sender": sender, "message": text}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


# ---- 1. stop signals ------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_every_service_and_removes_the_credentials_file(model_path, tmp_path, signum):
    launcher = Launcher(model_path, tmp_path)
    try:
        launcher.ready()
        assert set(launcher.service_pids()) == set(SERVICES)
        assert launcher.credentials.exists()
        os.kill(launcher.proc.pid, signum)  # to the launcher alone, as Docker and Kubernetes do
        try:
            code = launcher.proc.wait(timeout=30)  # services get 8 s after SIGTERM, 5 more after SIGKILL
        except subprocess.TimeoutExpired:
            pytest.fail(f"the launcher did not stop within 30 s of {signum.name}:\n{launcher.tail()}")
        assert_all_stopped(launcher)
        assert code == 0, launcher.tail()
    finally:
        launcher.kill_all()


def test_a_stop_signal_while_rasa_loads_stops_everything(model_path, tmp_path):
    launcher = Launcher(model_path, tmp_path)
    try:
        # The action server up, Rasa still loading its model (~10-20 s): what `systemctl stop`
        # right after `systemctl start` looks like.
        assert wait_until(lambda: answers(f"{launcher.url('actions')}/health"), 60), launcher.tail()
        assert len(launcher.service_pids()) == 3
        os.kill(launcher.proc.pid, signal.SIGTERM)
        assert not any(READY in line for line in launcher.lines)  # still starting when signalled
        code = launcher.proc.wait(timeout=30)
        assert_all_stopped(launcher)
        assert code == 0, launcher.tail()
    finally:
        launcher.kill_all()


def test_services_do_not_outlive_a_killed_launcher(model_path, tmp_path):
    """SIGKILL reaches no handler (Docker sends it 10 s after SIGTERM, the OOM killer too):
    the kernel tells the services instead (PR_SET_PDEATHSIG). Only the credentials file,
    which holds no secret, stays behind."""
    launcher = Launcher(model_path, tmp_path)
    try:
        launcher.ready()
        assert set(launcher.service_pids()) == set(SERVICES)
        launcher.proc.kill()
        launcher.proc.wait(timeout=10)
        launcher.credentials.unlink()
        assert_all_stopped(launcher, within=20)  # SIGTERM to each service, which then shuts down
    finally:
        launcher.kill_all()


# ---- --quiet -- CMD (make eval) ---------------------------------------------------------------

COMMAND = """
import json, os, sys, urllib.request
launcher = os.getppid()
children = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()
            and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(launcher)]
with urllib.request.urlopen(os.environ["RASA_PUBLIC_URL"] + "/", timeout=10) as response:
    status = response.status
json.dump({"children": children, "rasa": status}, open(sys.argv[1], "w"))
sys.exit(3)
"""


def test_quiet_mode_runs_the_command_then_stops_everything_with_its_exit_code(model_path, tmp_path):
    report, logs = tmp_path / "report.json", tmp_path / "logs"
    launcher = Launcher(model_path, tmp_path, "--quiet", "--log-dir", str(logs), "--",
                        sys.executable, "-c", COMMAND, str(report))
    try:
        code = launcher.proc.wait(timeout=START_TIMEOUT + 30)
        assert code == 3, launcher.tail()
        seen = json.loads(report.read_text())
        assert seen["rasa"] == 200 and len(seen["children"]) == 3, seen
        assert not any(alive(pid) for pid in seen["children"])
        assert_all_stopped(launcher)
        assert (logs / "rasa.log").stat().st_size > 0  # the services' output went to the files
    finally:
        launcher.kill_all()


# ---- 2. supervision: giving up --------------------------------------------------------------

def test_a_service_that_keeps_failing_at_start_stops_the_launcher(model_path, tmp_path):
    launcher = Launcher(model_path, tmp_path)
    blocker = socket.socket()
    try:
        launcher.ready()
        web = launcher.service_pids()["web"]
        kill_group(web)
        # Take the web app's port before its restart (1 s later), so every restart fails to bind.
        # The killed process's socket closes a moment after the signal: retry until it has.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 0.9
        while True:
            try:
                blocker.bind(("127.0.0.1", launcher.ports["web"]))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        blocker.listen()
        # Restarts after 1 + 2 + 4 + 8 + 16 s, each failing within a few seconds.
        code = launcher.proc.wait(timeout=80)
        launcher.wait_for(r"web stopped 5 times in a row before answering", 5)
        assert code == 1, launcher.tail()
        blocker.close()
        assert_all_stopped(launcher)
    finally:
        blocker.close()
        launcher.kill_all()


# ---- the shared launcher: binding, token, restarts --------------------------------------------

@pytest.fixture(scope="module")
def running(model_path, tmp_path_factory):
    launcher = Launcher(model_path, tmp_path_factory.mktemp("launch"))
    try:
        yield launcher.ready()
    finally:
        launcher.kill_all()


def test_services_listen_on_loopback_and_urls_say_127_0_0_1(running):
    pids = running.service_pids()
    # Rasa's address is the launcher's to choose (--interface); the action server and the
    # web app read theirs from the environment the launcher hands them.
    for name, port in running.ports.items():
        assert listening_on(port) == ["127.0.0.1"], name
    assert environ(pids["actions"])["ACTIONS_HOST"] == "127.0.0.1"
    assert environ(pids["web"])["WEB_HOST"] == "127.0.0.1"
    rasa_env = environ(pids["rasa"])
    assert rasa_env["RASA_HOST"] == "127.0.0.1"
    assert rasa_env["ACTION_ENDPOINT_URL"] == f"{running.url('actions')}/webhook"
    assert rasa_env["RASA_PUBLIC_URL"] == running.url("rasa")
    banner = "\n".join(running.lines[running.wait_for(re.escape(READY), 1):][:8])
    assert f"{running.url('web')}/" in banner and f"POST {running.url('rasa')}/webhooks/rest/webhook" in banner
    assert "localhost" not in banner


def test_rasa_and_the_action_server_share_a_generated_token_never_printed(running):
    pids = running.service_pids()
    token = environ(pids["actions"]).get("ACTION_SERVER_TOKEN", "")
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    assert environ(pids["rasa"])["ACTION_SERVER_TOKEN"] == token
    assert not any(token in line for line in running.lines)


def test_a_killed_action_server_is_restarted_and_the_others_keep_running(running):
    before, mark = running.service_pids(), len(running.lines)
    kill_group(before["actions"])
    running.wait_for(r"^actions stopped \(exit code -9\b.*\); restarting in \d+ s$", 10, mark)
    running.wait_for(r"^actions is back$", 60, mark)
    after = running.service_pids()
    assert after["actions"] != before["actions"]
    assert answers(f"{running.url('actions')}/health")
    assert (after["rasa"], after["web"]) == (before["rasa"], before["web"])


def test_a_killed_rasa_is_restarted_and_the_others_keep_running(running):
    before, mark = running.service_pids(), len(running.lines)
    kill_group(before["rasa"])
    running.wait_for(r"^rasa stopped \(exit code -9\b.*\); restarting in \d+ s$", 10, mark)
    running.wait_for(r"^rasa is back$", 80, mark)
    after = running.service_pids()
    assert after["rasa"] != before["rasa"]
    assert answers(f"{running.url('rasa')}/")
    assert (after["actions"], after["web"]) == (before["actions"], before["web"])


# ---- 3. nothing acknowledged is lost ------------------------------------------------------

def test_acknowledged_messages_survive_a_rasa_restart(running):
    sender, first, second = f"launch-{uuid.uuid4().hex}", "what are calcified lesions", "what types are there?"
    assert rest_turn(running, sender, first), "no reply to the first message"
    mark = len(running.lines)
    kill_group(running.service_pids()["rasa"])
    running.wait_for(r"^rasa is back$", 80, mark)
    assert rest_turn(running, sender, second), "no reply after the restart"
    with sqlite3.connect(running.db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    assert [json.loads(data)["text"] for (data,) in rows] == [first, second]


# ---- the same rules without processes (fast) --------------------------------------------------

def test_service_env_defaults_to_loopback_and_a_fresh_token(monkeypatch):
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEB_HOST", " ")  # blank counts as unset
    env = launch.service_env()
    assert (env["RASA_HOST"], env["ACTIONS_HOST"], env["WEB_HOST"]) == ("127.0.0.1",) * 3
    assert env["ACTION_ENDPOINT_URL"] == f"http://127.0.0.1:{env['ACTIONS_PORT']}/webhook"
    assert len(env["ACTION_SERVER_TOKEN"]) >= 40
    assert launch.service_env()["ACTION_SERVER_TOKEN"] != env["ACTION_SERVER_TOKEN"]  # one per run
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "")
    assert launch.service_env()["ACTION_SERVER_TOKEN"]  # empty counts as unset

    monkeypatch.setenv("ACTION_SERVER_TOKEN", "from-the-operator")
    monkeypatch.setenv("RASA_HOST", "0.0.0.0")
    stack = launch.Stack("model.tar.gz", rasa_port=5111, actions_port=5112, web_port=5113)
    assert stack.env["ACTION_SERVER_TOKEN"] == "from-the-operator"
    rasa_cmd = stack.services[1].cmd
    assert rasa_cmd[rasa_cmd.index("--interface") + 1] == "0.0.0.0"
    assert stack.rasa_url == "http://127.0.0.1:5111"  # a wildcard bind is reached on loopback
    assert stack.env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5112/webhook"


def test_back_off_doubles_to_its_cap_and_five_failed_starts_give_up(monkeypatch, capsys):
    monkeypatch.setattr(launch, "RESTART_DELAY", 0.01)
    monkeypatch.setattr(launch, "RESTART_DELAY_MAX", 0.04)
    stack = launch.Stack("model.tar.gz", rasa_port=free_port())
    stack.services = [launch.Service("broken", [sys.executable, "-c", "raise SystemExit(3)"],
                                     f"http://127.0.0.1:{free_port()}/health", restart_at=0.0)]
    try:
        with pytest.raises(launch.ServiceFailed, match=r"broken stopped 5 times in a row before answering "
                                                       r"\(last: exit code 3\)"):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stack.supervise()
                time.sleep(0.005)
    finally:
        stack.stop()
    assert capsys.readouterr().out.splitlines() == [
        f"broken stopped (exit code 3); restarting in {delay} s" for delay in (0.01, 0.02, 0.04, 0.04)]


def test_back_off_starts_over_after_a_stable_run(capsys):
    stack = launch.Stack("model.tar.gz", rasa_port=free_port())
    done = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    done.wait()
    stable = launch.Service("stable", ["true"], "http://127.0.0.1:9/", proc=done, exits=4,
                            ready_since=time.monotonic() - launch.STABLE_SECONDS - 1)
    stack.services = [stable]
    stack.supervise()
    assert capsys.readouterr().out == "stable stopped (exit code 0); restarting in 1 s\n"
    flaky = launch.Service("flaky", ["true"], "http://127.0.0.1:9/", proc=done, exits=2,
                           ready_since=time.monotonic() - 5)
    stack.services = [flaky]
    stack.supervise()
    assert capsys.readouterr().out == "flaky stopped (exit code 0); restarting in 4 s\n"
    assert flaky.start_failures == 0  # it had answered: a crash, not a failed start


def test_a_web_setting_that_cannot_work_stops_the_start_with_its_reason(model_path, tmp_path):
    """Said before anything starts, not as a web app that exits while starting."""
    env = dict(os.environ, WIDGET_COLOR="#ffcc00", DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "tools.launch", "--quiet", "--model", str(model_path)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "WIDGET_COLOR #ffcc00 is too light" in result.stdout + result.stderr
    assert time.monotonic() - started < 60  # no service was started and waited for
    assert launch.web_problems({"CLINIC_TIMEZONE": "Mars/Olympus"})[0].startswith("CLINIC_TIMEZONE must be")
    assert launch.web_problems({}) == []
