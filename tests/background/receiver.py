"""A real HTTP receiver on 127.0.0.1 for webhook tests: each path answers by a script
(a list of behaviours taken in turn, the last one repeating), and every request is kept."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.scripts: dict[str, list] = {}
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    script = receiver.scripts.get(self.path, [200])
                    behaviour = script.pop(0) if len(script) > 1 else script[0]
                if behaviour == "hang":  # until the test releases it (or gives up)
                    receiver.release.wait(30)
                    behaviour = 200
                elif isinstance(behaviour, tuple) and behaviour[0] == "sleep":
                    time.sleep(behaviour[1])
                    behaviour = 200
                elif isinstance(behaviour, tuple) and behaviour[0] == "redirect":
                    self.send_response(302)
                    self.send_header("Location", behaviour[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true, "note": "thanks"}' if behaviour < 400 else b"receiver is down"
                try:
                    self.send_response(behaviour)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str, *behaviours) -> str:
        self.scripts[path] = list(behaviours)
        return self.url(path)

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
