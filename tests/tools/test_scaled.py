"""The scaled layout: which processes, on which ports, and an nginx configuration that
Debian's nginx accepts (``nginx -t``)."""

import subprocess

import pytest

from clinic import settings as clinic
from tools import scaled
from tools.services import Ports, layout, service_env

SCALED = {"RASA_REPLICAS": "2", "ACTION_SERVERS": "3", "DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
          "REDIS_HOST": "127.0.0.1"}


def services(tmp_path, **env):
    return layout("m.tar.gz", Ports(7005, 7055, 7080), service_env(env), tmp_path / "c.yml", tmp_path)


def test_one_of_each_by_default(tmp_path):
    assert [s.name for s in services(tmp_path)] == ["actions", "rasa", "web"]


def test_replicas_and_action_servers_behind_nginx_on_the_usual_ports(tmp_path):
    found = services(tmp_path, **SCALED, RASA_HOST="0.0.0.0")
    assert [s.name for s in found] == ["actions-1", "actions-2", "actions-3", "rasa-1", "rasa-2", "nginx", "web"]
    by_name = {s.name: s for s in found}
    assert [by_name[f"actions-{i}"].env["ACTIONS_PORT"] for i in (1, 2, 3)] == ["7056", "7057", "7058"]
    rasa = by_name["rasa-2"].cmd
    # replicas listen on loopback only, nginx where the single process would
    assert rasa[rasa.index("--port") + 1] == "7007" and rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert rasa[rasa.index("--endpoints") + 1] == scaled.ENDPOINTS
    assert by_name["nginx"].health == "http://127.0.0.1:7005/"
    by_name["nginx"].prepare()
    config = (tmp_path / "nginx.conf").read_text()
    assert "listen 0.0.0.0:7005;" in config and "listen 127.0.0.1:7055;" in config
    assert config.count("server 127.0.0.1:7006 ") == 2 and "server 127.0.0.1:7058 " in config


def test_one_replica_with_several_action_servers_keeps_the_in_memory_lock_store(tmp_path):
    found = services(tmp_path, ACTION_SERVERS="2", DATABASE_URL="postgresql://postgres@127.0.0.1/x")
    rasa = next(s for s in found if s.name == "rasa-1").cmd
    assert rasa[rasa.index("--endpoints") + 1] == "endpoints.yml"


@pytest.mark.parametrize("env, problem", [
    ({"RASA_REPLICAS": "2", "REDIS_HOST": "127.0.0.1"}, "needs a shared database"),
    ({"RASA_REPLICAS": "2", "DATABASE_URL": "postgresql://x/y"}, "needs the Redis lock store"),
    ({"ACTION_SERVERS": "2"}, "needs a shared database server"),
    ({"RASA_REPLICAS": "many"}, "whole number from 1 to 16"),
    ({"ACTION_SERVERS": "0"}, "whole number from 1 to 16"),
])
def test_settings_that_cannot_scale_are_refused_with_the_reason(env, problem):
    assert any(problem in p for p in clinic.scale_problems(env))


def test_scaled_settings_that_can_work_raise_nothing():
    assert clinic.scale_problems(SCALED) == [] and clinic.scale_problems({}) == []


def test_debian_nginx_accepts_the_configuration(tmp_path):
    assert scaled.nginx_binary(), "nginx is not installed: make nginx (make test installs it)"
    config = scaled.write_nginx_config(tmp_path, "127.0.0.1", 7005, [7006, 7007], 7055, [7056, 7057])
    result = subprocess.run([scaled.nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
