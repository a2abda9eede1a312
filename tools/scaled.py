"""Several Rasa replicas and action servers on one machine, behind nginx (``make run-scaled``).

The launcher (tools/launch.py) runs this layout when ``RASA_REPLICAS`` or ``ACTION_SERVERS``
(clinic/settings.py) is above 1:

    patients -> nginx :RASA_PORT    -> Rasa replicas on RASA_PORT+1 ... (127.0.0.1 only)
    Rasa     -> nginx :ACTIONS_PORT -> action servers on ACTIONS_PORT+1 ...

All replicas share the PostgreSQL tracker store and the Redis lock store
(deploy/endpoints.scale.yml), so a conversation's messages are handled one at a time
whichever replica receives them. REST and webhook requests go to the least busy replica;
socket.io connections stay on one replica per client address (its polling requests must
reach the process that holds the session). nginx passes a request to the next replica when
one refuses the connection (stopped, restarting), which POST requests get too: nothing
reached the stopped one.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import List, Sequence

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
ENDPOINTS = "deploy/endpoints.scale.yml"


def nginx_binary() -> str:
    """nginx from Debian's package (``make nginx`` installs it); "" when it is missing."""
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return ""


def replica_ports(front_port: int, count: int) -> List[int]:
    """The ports behind a front port: the next ``count`` ones."""
    return [front_port + 1 + i for i in range(count)]


def free_port_block(count: int) -> int:
    """A port p such that p .. p+count-1 are all free on loopback right now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65000:
            continue
        try:
            sockets = []
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports")


def _servers(ports: Sequence[int]) -> str:
    # max_fails/fail_timeout: a replica that refused a connection is skipped for 2 s.
    return "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports)


def nginx_config(workdir: Path, listen_host: str, rasa_port: int, rasa_ports: Sequence[int],
                 actions_port: int, action_ports: Sequence[int]) -> str:
    """nginx.conf for this layout; every path it writes is under ``workdir``."""
    tmp = workdir / "tmp"
    listen = f"[{listen_host}]:{rasa_port}" if ":" in listen_host else f"{listen_host}:{rasa_port}"
    return f"""# Written by tools/scaled.py for one run of the launcher.
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server_tokens off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  client_max_body_size 1m;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}

  upstream rasa {{
    least_conn;
{_servers(rasa_ports)}
    keepalive 64;
  }}
  upstream rasa_sticky {{
    hash $binary_remote_addr consistent;
{_servers(rasa_ports)}
  }}
  upstream actions {{
    least_conn;
{_servers(action_ports)}
    keepalive 64;
  }}

  server {{
    listen {listen};
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_next_upstream error timeout;
    proxy_connect_timeout 2s;
    location /socket.io/ {{
      proxy_pass http://rasa_sticky;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    location / {{
      proxy_pass http://rasa;
      proxy_set_header Connection "";
      proxy_read_timeout 120s;
    }}
  }}
  server {{
    listen 127.0.0.1:{actions_port};
    proxy_http_version 1.1;
    proxy_next_upstream error timeout;
    proxy_connect_timeout 2s;
    # Unbuffered both ways: buffered, each of Rasa's action calls took 49 ms instead of
    # 6 (tools/loadtest/profile.py against this server and straight to an action server).
    proxy_request_buffering off;
    proxy_buffering off;
    location / {{
      proxy_pass http://actions;
      proxy_set_header Connection "";
      proxy_read_timeout 120s;
    }}
  }}
}}
"""


def write_nginx_config(workdir: Path, *args, **kwargs) -> Path:
    """Writes nginx.conf and its temporary folders under ``workdir``; returns the file.

    nginx started as root runs its worker as ``nobody``, which must be able to write the
    temporary folders: they are world-writable with the sticky bit, like /tmp."""
    tmp = workdir / "tmp"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        (tmp / sub).chmod(0o1777)
    tmp.chmod(0o1777)
    path = workdir / "nginx.conf"
    path.write_text(nginx_config(workdir, *args, **kwargs), encoding="utf-8")
    return path


def nginx_command(config: Path) -> List[str]:
    return [nginx_binary() or "nginx", "-p", str(config.parent), "-c", str(config)]
