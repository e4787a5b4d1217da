import threading
from http.server import ThreadingHTTPServer

import pytest


@pytest.fixture
def fake_analyzer(settings):
    """The no-network analyzer of tests/onboarding/fakes.py."""
    settings.CAIRN_ONBOARDING_ANALYZER = "tests.onboarding.fakes.FakeAnalyzer"


@pytest.fixture
def alice(client_for, user):
    """A test client signed in as `user` (Alice)."""
    return client_for(user)


@pytest.fixture
def serve():
    """serve(handler_class) -> "http://127.0.0.1:PORT": a local HTTP server for the test, stopped after it."""
    servers = []

    def start(handler) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
