"""The chat webhook under gunicorn with 4 worker processes on PostgreSQL: 32 concurrent posts for one user,
each message delivered twice (the provider's retry racing the first delivery).

Only PostgreSQL: a production deployment runs several processes against it; SQLite serializes writers in
one file and is covered by the thread tests. Needs a real commit (transaction=True) so the workers see
the user, and a free port on 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from conversations import signatures
from conversations.models import ChatSession, Message
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "multiprocess-secret"
WORKERS = 4
POSTS = 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "")
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def gunicorn(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the multi-process test runs on PostgreSQL")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "CONVERSATIONS_WEBHOOK_SECRET": SECRET,
        "CAIRN_HTTPS": "false",
        "CAIRN_ARCHIVE_ROOT": str(tmp_path / "archives"),
        "CONVERSATIONS_AUDIO_ROOT": str(tmp_path / "audio"),
    }
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:  # not listening yet, or a worker still booting on a busy machine
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {(tmp_path / 'gunicorn.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _post(base: str, data: dict) -> tuple[int, dict, dict]:
    url = f"{base}/api/conversations/messages"
    signature = signatures.compute(secret=SECRET, url=url, params={k: [v] for k, v in data.items()})
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(data).encode(), headers={signatures.HEADER: signature}, method="POST"
    )
    for attempt in range(5):  # a dropped connection is retried, as a provider would
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, {}, dict(error.headers)
        except OSError:  # refused, reset or timed out: the provider retries, with the same message id
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError(f"no answer for {data}")


def test_32_concurrent_webhook_posts_across_4_processes_keep_one_session_and_every_message(gunicorn):
    user = UserFactory()
    barrier = threading.Barrier(POSTS)
    results: list = [None] * POSTS

    def send(index):
        barrier.wait(timeout=30)
        data = {"user": user.external_id, "message_id": f"SM{index // 2:032x}", "body": "hi"}
        results[index] = _post(gunicorn, data)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [status for status, _, _ in results] == [200] * POSTS
    session = ChatSession.objects.get(user=user)  # one session, the active one
    assert session.status == "active"
    inbound = Message.objects.filter(user=user, direction="in")
    assert inbound.count() == POSTS // 2
    assert set(Message.objects.filter(user=user).values_list("session", flat=True)) == {session.pk}
    assert Message.objects.filter(user=user, direction="out").count() == POSTS // 2
    # Both deliveries of a message got the same stored reply; at least one of each pair was a replay.
    by_id: dict = {}
    for index, (_, body, headers) in enumerate(results):
        by_id.setdefault(index // 2, []).append((body["reply"], headers.get("Idempotent-Replayed")))
    for pair in by_id.values():
        assert pair[0][0] == pair[1][0]
        assert [replayed for _, replayed in pair].count("true") == 1
