"""``make bench``'s load test: the scaled assistant and stock Rasa, side by side in one run.

    python -m tools.loadtest.run --model models/assistant-X.tar.gz [--users 20] [--seconds 60]

1. Ours: 2 Rasa replicas and 2 action servers behind nginx (tools/scaled.py), a scratch
   PostgreSQL database and the Redis lock store; time to ready from start.
2. Locust (tools/loadtest/locustfile.py), one conversation at a time (no bursts), then
   ``--users`` at once (every 5th conversation opening with a burst of 3): throughput,
   p50/p95/p99, errors.
3. The tracker store afterwards: every acknowledged message exactly once and in order.
4. Resident memory of every process (after the load), and where one message's time goes
   (tools/loadtest/profile.py), before and after this project's cut of Rasa's per-call check.
5. Stock Rasa (tools/loadtest/stock.py) with our action server: the same two Locust runs.

Writes reports/bench/load.json and load.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.loadtest import integrity, stock  # noqa: E402
from tools.processes import stop_groups  # noqa: E402
from tools.scaled import free_port_block  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("BENCH_REDIS_HOST", "127.0.0.1")


def wait_until_answers(url: str, timeout: float = 300.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def warm_up(host: str, messages: int = 6) -> None:
    for i in range(messages):
        body = json.dumps({"sender": f"warmup-{uuid.uuid4().hex[:8]}", "message": "what types are there?"}).encode()
        request = urllib.request.Request(f"{host}/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()


def locust(host: str, users: int, seconds: int, run: str, log: Path, out: Path, bursts: bool = True
           ) -> Dict[str, float]:
    """One headless Locust run; the aggregated figures of its CSV. Without ``bursts`` every
    turn waits for the previous reply (one conversation at a time, as the targets mean it)."""
    prefix = out / f"locust-{run}"
    env = {**os.environ, "BENCH_RUN": run, "BENCH_LOG": str(log), "PYTHONPATH": str(ROOT),
           "BENCH_BURST_EVERY": os.environ.get("BENCH_BURST_EVERY", "5") if bursts else "0"}
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
         "-t", f"{seconds}s", "--stop-timeout", "120", "--host", host, "--csv", str(prefix), "--only-summary",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 300)
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return {
        "users": users, "seconds": seconds, "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]), "rps": round(float(row["Requests/s"]), 2),
        "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
    }


def resident_mb(pids: Dict[str, int]) -> Dict[str, Dict[str, float]]:
    """Memory of each process with its children, in MB: resident (RSS), and its share of
    pages shared with other processes (PSS) and its own pages (USS). Replicas of one
    program share the pages of its libraries (TensorFlow alone maps about 500 MB), which
    RSS counts in full for each of them."""
    import psutil

    sizes: Dict[str, Dict[str, float]] = {}
    for name, pid in pids.items():
        try:
            process = psutil.Process(pid)
            infos = [p.memory_full_info() for p in [process] + process.children(recursive=True)]
            sizes[name] = {kind: round(sum(getattr(i, kind) for i in infos) / 2 ** 20, 1)
                           for kind in ("rss", "pss", "uss")}
        except psutil.Error:
            sizes[name] = {}
    return sizes


def measure(host: str, run: str, args, out: Path) -> Dict[str, object]:
    warm_up(host)
    log = out / f"sent-{run}.jsonl"
    log.unlink(missing_ok=True)
    single = locust(host, 1, args.single_seconds, f"{run}-single", log, out, bursts=False)
    load = locust(host, args.users, args.seconds, f"{run}-load", log, out)
    return {"single": single, "load": load, "log": log}


def run_profiles(args, stack, database_url: str, out: Path) -> Dict[str, object]:
    """tools/loadtest/profile.py against this stack's first action server, database and Redis:
    with Rasa's own check of action answers (before rasa_ext/action_calls.py) and with ours."""
    actions = next(s for s in stack.services if s.name.startswith("actions"))
    port = actions.env.get("ACTIONS_PORT") or stack.env["ACTIONS_PORT"]
    results = {}
    for label, extra in (("rasa_action_check", ["--rasa-action-check"]), ("ours", [])):
        target = out / f"profile-{label}.json"
        subprocess.run([sys.executable, "-m", "tools.loadtest.profile", "--model", args.model,
                        "--database-url", database_url, "--redis-host", REDIS_HOST,
                        "--redis-port", stack.env.get("REDIS_PORT", "6379"),
                        "--actions-url", f"http://127.0.0.1:{port}/webhook",
                        "--token", stack.env["ACTION_SERVER_TOKEN"], "--json", str(target)] + extra,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        results[label] = json.loads(target.read_text(encoding="utf-8"))
    return results


def run_ours(args, run: str, out: Path) -> Dict[str, object]:
    from storage.engine import ensure_database
    from tools.launch import Stack
    import sqlalchemy as sa

    database = f"bench_{run}"
    url = sa.engine.make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)
    ensure_database(url)
    rasa_port, actions_port = free_port_block(3), free_port_block(3)
    stack = Stack(args.model, rasa_port=rasa_port, actions_port=actions_port, web_port=free_port_block(1),
                  env={"RASA_REPLICAS": "2", "ACTION_SERVERS": "2", "DATABASE_URL": url,
                       "REDIS_HOST": REDIS_HOST, "REDIS_DB": "3"},
                  log_dir=out / "logs-ours")
    started = time.monotonic()
    stack.start()
    ready = time.monotonic() - started
    try:
        result = measure(stack.rasa_url, run, args, out)
        result["memory_mb"] = resident_mb({s.name: s.proc.pid for s in stack.services if s.proc})
        result["integrity"] = integrity.check(integrity.acknowledged(result.pop("log")),
                                              integrity.stored(url, f"bench-{run}"))
        result["profile"] = run_profiles(args, stack, url, out)
    finally:
        stack.stop()
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    result["ready_s"] = round(ready, 1)
    result["model_mb"] = round(Path(args.model).stat().st_size / 2 ** 20, 1)
    return result


def run_stock(args, run: str, out: Path) -> Dict[str, object]:
    from tools.services import service_env

    env = service_env({})
    trained_before = stock.model_path().exists()
    started = time.monotonic()
    model = stock.train(env)
    trained_s = time.monotonic() - started
    actions_port, rasa_port = free_port_block(1), free_port_block(1)
    files = stock.write_files(out / "stock", f"http://127.0.0.1:{actions_port}")
    logs = out / "logs-stock"
    logs.mkdir(parents=True, exist_ok=True)
    procs: Dict[str, subprocess.Popen] = {}
    try:
        for name, cmd, port_env in (
                ("actions", [sys.executable, "-m", "actions.server"], {"ACTIONS_PORT": str(actions_port),
                                                                        "DATABASE_URL": f"sqlite:///{out / 'stock.db'}"}),
                ("rasa", stock.run_command(model, rasa_port, files), {})):
            with open(logs / f"{name}.log", "ab") as log_file:
                procs[name] = subprocess.Popen(cmd, cwd=ROOT, env={**env, **port_env}, stdout=log_file,
                                               stderr=log_file, start_new_session=True)
        wait_until_answers(f"http://127.0.0.1:{actions_port}/health")
        ready = wait_until_answers(f"http://127.0.0.1:{rasa_port}/")
        result = measure(f"http://127.0.0.1:{rasa_port}", f"{run}-stock", args, out)
        result.pop("log")
        result["memory_mb"] = resident_mb({name: p.pid for name, p in procs.items()})
        result["ready_s"] = round(ready, 1)
    finally:
        stop_groups(list(procs.values()), grace=8)
    result["model_mb"] = round(model.stat().st_size / 2 ** 20, 1)
    result["trained_now_s"] = None if trained_before else round(trained_s, 1)  # None: trained in an earlier run
    return result


def summary(ours: Dict, stock_result: Dict) -> Dict[str, object]:
    load, stock_load = ours["load"], stock_result["load"]
    return {
        "rps": load["rps"], "p50_ms": load["p50_ms"], "p95_ms": load["p95_ms"], "p99_ms": load["p99_ms"],
        "errors": load["errors"] + ours["single"]["errors"],
        "lost_events": ours["integrity"]["lost_events"],
        "duplicated_events": ours["integrity"]["duplicated_events"],
        "out_of_order_conversations": ours["integrity"]["out_of_order_conversations"],
        "single_p50_ms": ours["single"]["p50_ms"], "single_p95_ms": ours["single"]["p95_ms"],
        "stock_rps": stock_load["rps"], "stock_p50_ms": stock_load["p50_ms"],
        "stock_single_p50_ms": stock_result["single"]["p50_ms"],
        "ratio_vs_stock": round(load["rps"] / stock_load["rps"], 2) if stock_load["rps"] else None,
        "users": load["users"],
        "handle_message_p50_ms": ours.get("profile", {}).get("ours", {}).get("handle_message_p50_ms"),
        "handle_message_p50_ms_with_rasa_action_check":
            ours.get("profile", {}).get("rasa_action_check", {}).get("handle_message_p50_ms"),
        "memory_mb": ours["memory_mb"], "ready_s": ours["ready_s"], "stock_ready_s": stock_result["ready_s"],
        "stock_memory_mb": stock_result["memory_mb"],
    }


def render(report: Dict[str, object]) -> str:
    ours, stock_result = report["ours"], report["stock"]
    lines = [
        "# Load test (make bench)", "",
        f"{report['when']}; {report['users']} concurrent conversations for {report['seconds']} s after one "
        f"conversation at a time for {report['single_seconds']} s; conversations from the readable blind sets.", "",
        "| | ours (2 Rasa + 2 action servers, nginx, PostgreSQL, Redis) | stock Rasa (rasa init config) |",
        "|---|---|---|",
    ]
    for label, key in (("one at a time", "single"), (f"{report['users']} at once", "load")):
        a, b = ours[key], stock_result[key]
        for field in ("rps", "p50_ms", "p95_ms", "p99_ms", "errors", "requests"):
            lines.append(f"| {label}: {field} | {a[field]} | {b[field]} |")
    lines.append(f"| ready after start (s) | {ours['ready_s']} | {stock_result['ready_s']} |")
    lines.append(f"| model (MB) | {ours['model_mb']} | {stock_result['model_mb']} |")
    lines.append(f"| resident memory (MB) | {ours['memory_mb']} | {stock_result['memory_mb']} |")
    lines += ["", f"Tracker store after the load: {ours['integrity']}", ""]
    from tools.loadtest.profile import render as render_profile

    for label, title in (("rasa_action_check", "Before (Rasa's own check of every action answer)"),
                         ("ours", "After (rasa_ext/action_calls.py)")):
        if label in ours.get("profile", {}):
            lines += [f"## Where the time goes: {title}", "", render_profile(ours["profile"][label])]
    lines += ["Summary: " + json.dumps(report["summary"])]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--single-seconds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:8]
    ours = run_ours(args, run, args.out)
    stock_result = run_stock(args, run, args.out)
    report = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "users": args.users,
              "seconds": args.seconds, "single_seconds": args.single_seconds, "ours": ours, "stock": stock_result,
              "summary": summary(ours, stock_result)}
    (args.out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "load.md").write_text(render(report), encoding="utf-8")
    print(render(report))
    print(json.dumps(report["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
