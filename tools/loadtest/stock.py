"""Stock Rasa for comparison: the configuration ``rasa init`` writes (Rasa's own
initial_project/config.yml: an empty pipeline and policies, i.e. Rasa's defaults), trained
on our domain and data, run with Rasa's own REST channel, in-memory tracker and lock stores
(as ``rasa init``'s endpoints.yml leaves them), calling our action server.

``train()`` trains models/stock-<hash>.tar.gz once per change of its inputs, through
``python -m tools.loadtest.stock train-now <rasa train arguments>``; ``run_command()``
starts ``python -m tools.loadtest.stock run <rasa run arguments>``: Rasa itself with
telemetry and crash reports off and nothing of this project's installed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]


def init_config() -> Path:
    import rasa.cli

    return Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"


def model_path() -> Path:
    files = [init_config(), ROOT / "domain.yml"] + sorted((ROOT / "data").rglob("*.yml"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]
    return ROOT / "models" / f"stock-{digest}.tar.gz"


def train(env: Dict[str, str]) -> Path:
    """Trains the stock model unless this data's model exists; returns its path."""
    path = model_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "tools.loadtest.stock", "train-now", "--config", str(init_config()),
                        "--domain", "domain.yml", "--data", "data", "--out", str(path.parent),
                        "--fixed-model-name", path.name[: -len(".tar.gz")]], cwd=ROOT, env=env, check=True)
    return path


def write_files(folder: Path, actions_url: str) -> Dict[str, Path]:
    """Rasa's plain REST channel, and our action server (with its token) as the action endpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    credentials, endpoints = folder / "credentials.yml", folder / "endpoints.yml"
    credentials.write_text("rest:\n", encoding="utf-8")
    endpoints.write_text(
        "action_endpoint:\n"
        f"  url: {actions_url}/webhook\n"
        "  headers:\n"
        "    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n", encoding="utf-8")
    return {"credentials": credentials, "endpoints": endpoints}


def run_command(model: Path, port: int, files: Dict[str, Path]) -> List[str]:
    return [sys.executable, "-m", "tools.loadtest.stock", "run", "--model", str(model), "--port", str(port),
            "--interface", "127.0.0.1", "--credentials", str(files["credentials"]),
            "--endpoints", str(files["endpoints"])]


def main() -> None:
    # Rasa itself, with only telemetry and crash reports switched off (tools/rasa_cli.py
    # would also install this project's extensions).
    from tools.rasa_cli import disable_phoning_home

    disable_phoning_home()
    args = sys.argv[1:]
    if args and args[0] == "train-now":
        args[0] = "train"
    sys.argv = ["rasa"] + args
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
