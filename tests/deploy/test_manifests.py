"""The files for running beyond one machine, checked with the real tools that run here:
Debian's docker-compose (``config``), kubernetes-validate (Kubernetes 1.28 schemas) and
Debian's nginx (``-t``). The image itself is not built here (no Docker daemon)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tools import scaled

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"
SECRETS = {"ACTION_SERVER_TOKEN": "token-for-the-test", "POSTGRES_PASSWORD": "password-for-the-test"}


def compose(*args, env=None):
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed: make deploy-tools (make test installs it)"
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run([binary, "-f", str(COMPOSE), *args], capture_output=True, text=True,
                          env={**clean, **(env or {})}, timeout=60)


def test_the_compose_file_is_valid_and_runs_the_scaled_layout():
    result = compose("config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert services["rasa"]["deploy"]["replicas"] == 2 and services["actions"]["deploy"]["replicas"] == 2
    assert services["actions"]["command"] == ["python", "-m", "actions.server"]
    env = services["rasa"]["environment"]
    assert env["REDIS_HOST"] == "redis" and env["DATABASE_URL"].startswith("postgresql://")
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["ACTION_SERVER_TOKEN"] == SECRETS["ACTION_SERVER_TOKEN"]


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_the_compose_file_refuses_to_run_without_its_secrets(missing):
    result = compose("config", "-q", env={k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0 and f"set {missing}" in result.stderr


@pytest.mark.parametrize("manifest", sorted((DEPLOY / "k8s").glob("*.yaml")), ids=lambda p: p.name)
def test_the_kubernetes_manifests_are_valid(manifest):
    documents = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, "1.28.0", strict=True)


def test_the_compose_nginx_configuration_is_accepted_by_nginx(tmp_path):
    # the service names resolve inside Docker only: the same file with loopback addresses
    text = (DEPLOY / "compose" / "nginx.conf").read_text()
    text = re.sub(r"server (rasa|actions|web):", "server 127.0.0.1:", text)
    config = tmp_path / "nginx.conf"
    config.write_text(text.replace("listen 80;", "listen 127.0.0.1:65080;").replace("listen 5055;",
                                                                                   "listen 127.0.0.1:65055;"))
    binary = scaled.nginx_binary()
    assert binary, "nginx is not installed: make nginx"
    result = subprocess.run([binary, "-t", "-p", str(tmp_path), "-c", str(config),
                             "-g", f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_every_image_command_names_a_module_of_this_repository():
    commands = [["python", "-m", "tools.rasa_cli"]]
    commands += [d["spec"]["template"]["spec"]["containers"][0]["command"]
                 for p in (DEPLOY / "k8s").glob("*.yaml") for d in yaml.safe_load_all(p.read_text())
                 if d and d["kind"] == "Deployment"]
    values = yaml.safe_load((DEPLOY / "helm" / "rasa-values.yaml").read_text())
    commands.append(values["command"])
    for command in commands:
        module = command[command.index("-m") + 1]
        assert (ROOT / module.replace(".", "/")).with_suffix(".py").exists() or \
            (ROOT / module.replace(".", "/") / "__main__.py").exists(), command
    assert values["replicaCount"] == 2 and values["applicationSettings"]["telemetry"]["enabled"] is False
    assert "deploy/endpoints.scale.yml" in values["args"]


def test_the_dockerfile_copies_only_what_exists_and_trains_with_make():
    text = (DEPLOY / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists() or source == ".", source
    assert "make train" in text and "--require-hashes" in text
