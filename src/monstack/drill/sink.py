"""The notification sink: one loopback HTTP server that every receiver of the drill's alertmanager.yml reaches.

The URL a receiver is given names it: `/<receiver>/<channel>/...` (written into the secret files, or the URL
fields). Each POST is recorded with the alert names it mentions and whether it announces firing or resolution.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Notice:
    at: float
    receiver: str
    channel: str
    status: str  # firing | resolved
    alerts: tuple[str, ...]
    body: str = field(repr=False, default="")


def parse_notice(path: str, body: str, at: float) -> Notice:
    parts = [p for p in path.split("/") if p]
    receiver = parts[0] if parts else "?"
    channel = parts[1] if len(parts) > 1 else "?"
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    status = "firing"
    if isinstance(data, dict) and data.get("status") in ("firing", "resolved"):  # webhook
        status = data["status"]
    elif isinstance(data, dict) and data.get("event_action") in ("trigger", "resolve"):  # PagerDuty v2
        status = "resolved" if data["event_action"] == "resolve" else "firing"
    elif re.search(r"\[RESOLVED\]|\bRESOLVED\b", body):  # Slack, Teams, Opsgenie, Telegram titles
        status = "resolved"
    names = set(re.findall(r'"alertname"\s*:\s*"([^"]+)"', body))
    names |= set(re.findall(r"\b([A-Z][A-Za-z0-9_]+)\b", body))  # titles: [FIRING:1] APIDown
    return Notice(at, receiver, channel, status, tuple(sorted(names)), body)


class Sink:
    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with sink.lock:
                    sink.notices.append(parse_notice(self.path, body, time.monotonic()))
                reply = b'{"ok": true, "status": "success", "result": {}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="drill-sink", daemon=True)

    def url(self, receiver: str, channel: str) -> str:
        return f"http://127.0.0.1:{self.port}/{receiver}/{channel}"

    def __enter__(self) -> "Sink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def find(self, alert: str, status: str, since: float) -> list[Notice]:
        with self.lock:
            return [n for n in self.notices if n.at >= since and n.status == status and alert in n.alerts]
