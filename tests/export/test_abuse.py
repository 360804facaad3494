"""tlm-serve as a real process under abuse: deep JSON, too much work, slow and vanishing clients,
a small request beside a large one, SIGTERM with requests in flight."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from helpers import ENV, ROOT

SENTENCE = "我们去学校了"
# 48 inputs x beam 16 x 63 output positions = 48384 beam steps, within the budget below (~60 steps of 768 rows)
LARGE = {"inputs": [SENTENCE] * 48, "beam": 16, "min_len": 60}
BUDGET = "50000"


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert time.monotonic() < deadline, f"{needle!r} not logged:\n{self.text()}"
            time.sleep(0.05)

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=10).json()

    def wait_pending(self, timeout: float = 30) -> None:
        """Until a request is in the batcher (queued or searched), however busy the machine is."""
        deadline = time.monotonic() + timeout
        while self.health()["pending"] < 1:
            assert time.monotonic() < deadline, f"no request reached the batcher:\n{self.text()}"
            time.sleep(0.02)


@contextmanager
def server(model_dir: Path, tmp_path: Path, *args: str) -> Iterator[Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / f"serve-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "export.server", "--model-dir", str(model_dir), "--port", str(port),
                                 "--threads", "1", "--device", "cpu", *args], cwd=ROOT, env=ENV, stdout=out,
                                stderr=subprocess.STDOUT)
    running = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"tlm-serve exited with {proc.returncode}:\n{running.text()}"
            try:
                if httpx.get(f"{running.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tlm-serve did not come up"
            time.sleep(0.1)
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def served(cgec, tmp_path_factory) -> Iterator[Server]:
    with server(cgec["model_dir"], tmp_path_factory.mktemp("abuse"), "--read-timeout", "1", "--max-work", BUDGET) as s:
        yield s


def post(url: str, body: bytes, timeout: float = 60) -> httpx.Response:
    return httpx.post(f"{url}/v1/generate", content=body, headers={"content-type": "application/json"}, timeout=timeout)


@pytest.mark.parametrize("body,message", [
    (b"[" * 200_000, "body is nested deeper than 32 levels"),
    (b'{"inputs": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "body is nested deeper than 32 levels"),
    (b'{"inputs": ' + b"[" * 40 + b'"x"' + b"]" * 40 + b"}", "body is nested deeper than 32 levels"),
    (b'{"inputs": ["a"], "inputs": ["b"]}', "key 'inputs' appears twice in one object"),
    (b'{"inputs": ["\\ud800abc"]}', "holds a lone UTF-16 surrogate"),
])
def test_hostile_json_is_a_400(served, body, message):
    reply = post(served.url, body)
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_json"
    assert message in reply.json()["error"]["message"]
    assert post(served.url, json.dumps({"inputs": [SENTENCE]}).encode()).status_code == 200


def test_correct_refuses_hostile_json_too(served):
    reply = httpx.post(f"{served.url}/v1/correct", content=b'{"text": ' + b"[" * 100_000, timeout=60)
    assert reply.status_code == 400 and "nested deeper" in reply.json()["error"]["message"]


def test_work_beyond_the_budget_is_a_422_naming_it(served):
    allowed = post(served.url, json.dumps({"inputs": [SENTENCE] * 4, "beam": 4}).encode())
    assert allowed.status_code == 200
    reply = post(served.url, json.dumps({"inputs": [SENTENCE] * 64, "beam": 16, "max_len_b": 200}).encode())
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "too_much_work"
    assert error["message"].startswith("this request may take up to 64512 beam steps (64 input(s) x beam 16 x their "
                                       "maximum output lengths); the server's budget is 50000 per request")
    assert served.health()["limits"]["max_work"] == 50000


def wait_closed(sock: socket.socket, timeout: float) -> tuple[float, bytes]:
    """Seconds until the server closed ``sock``, and what it sent before."""
    sock.settimeout(timeout)
    started, received = time.monotonic(), b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return time.monotonic() - started, received
        received += chunk


def test_connections_without_a_complete_request_head_are_closed(served):
    silent = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
    trickle = socket.create_connection(silent.getpeername())
    trickle.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\n")
    for sock in (silent, trickle):
        elapsed, received = wait_closed(sock, timeout=60)
        assert elapsed < 30 and received == b""  # closed by the 1 s head timeout, not left open
        sock.close()
    served.wait_for_log("no complete request within 1 s")


@pytest.mark.parametrize("padding,status", [(100_000, b"431"), (1_000_000, b"400"), (-1, b"400")])
def test_an_oversized_request_head_is_refused(served, padding, status):
    """A whole head in one read is parsed, then refused by size (431); one still incomplete past
    16 KiB is refused by h11 (400) while the client may still be sending (so it may see a reset)."""
    sock = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
    received = b""
    try:
        if padding > 0:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * padding + b"\r\n\r\n")
        else:  # a head that never ends
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            for _ in range(10):
                sock.sendall(b"X-Padding: " + b"a" * 4000 + b"\r\n")
        _, received = wait_closed(sock, timeout=10)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    assert received.startswith(b"HTTP/1.1 " + status + b" ") or (status == b"400" and not received), received[:200]
    assert served.health()["status"] == "ok"


def test_a_body_that_does_not_arrive_gets_408_and_the_connection_closes(served):
    sock = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
    sock.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"inputs\"")
    elapsed, received = wait_closed(sock, timeout=60)
    sock.close()
    assert elapsed < 30 and received.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"body_timeout"' in received and b"connection: close" in received.lower()


def test_many_slow_clients_do_not_block_others_and_are_dropped(served):
    address = ("127.0.0.1", int(served.url.rsplit(":", 1)[1]))
    slow = []
    for _ in range(100):
        sock = socket.create_connection(address)
        sock.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        slow.append(sock)
    assert post(served.url, json.dumps({"inputs": [SENTENCE]}).encode()).status_code == 200
    for sock in slow:  # each gets its 408 once the read timeout passes (generous waits: CI machines are busy)
        _, received = wait_closed(sock, timeout=60)
        sock.close()
        assert received.startswith(b"HTTP/1.1 408 ")


def test_a_client_that_hangs_up_mid_body_is_one_log_line(served):
    sock = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
    sock.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inp")
    time.sleep(0.2)
    sock.close()
    served.wait_for_log("left POST /v1/generate while sending its request body (5 bytes received); nothing was sent")
    assert "Traceback" not in served.text() and "Exception in ASGI application" not in served.text()


def test_the_search_of_a_client_that_left_is_stopped(cgec, tmp_path):
    """The client leaves once its search is running (not after a fixed time: a fast machine would
    finish a fixed-size search first); the search is long enough that no machine finishes it."""
    # 512 long inputs x beam 32 x 63 positions: 16 batches of 32 inputs searched one after another (~1000 model calls)
    endless = {"inputs": [SENTENCE * 8] * 512, "beam": 32, "min_len": 60}
    with server(cgec["model_dir"], tmp_path, "--max-work", "1100000", "--max-inputs", "512", "--max-beam", "32",
                "--max-batch-inputs", "512") as s:
        sock = socket.create_connection(("127.0.0.1", int(s.url.rsplit(":", 1)[1])))
        body = json.dumps(endless).encode()
        sock.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        try:
            s.wait_pending()  # the request is in the batcher, whose 5 ms wait then starts the search
        except AssertionError:
            sock.settimeout(1)
            pytest.fail(f"the request never reached the batcher: {sock.recv(4096)[:300]!r}")
        time.sleep(0.05)
        sock.setblocking(False)
        try:
            early = sock.recv(4096)
        except BlockingIOError:
            early = b""
        sock.close()
        assert early == b"", f"the search ended before the client left: {early[:300]!r}"
        s.wait_for_log("stopped a search of 512 input(s)")
        after = s.health()
        assert after["stopped"] == 1 and after["requests"] == 0 and after["pending"] == 0
        assert "while its request was queued or searched; nothing was sent" in s.text()
        assert "Traceback" not in s.text()


def test_a_small_request_is_answered_while_a_large_one_runs(served):
    finished: dict[str, float] = {}

    def large() -> None:
        reply = post(served.url, json.dumps(LARGE).encode())
        assert reply.status_code == 200 and len(reply.json()["outputs"]) == 48
        finished["large"] = time.monotonic()

    thread = threading.Thread(target=large)
    thread.start()
    served.wait_pending()  # the large one is in the batcher
    small = post(served.url, json.dumps({"inputs": [SENTENCE], "beam": 2}).encode())
    finished["small"] = time.monotonic()
    thread.join(timeout=120)
    assert small.status_code == 200 and finished["small"] < finished["large"]


def test_sigterm_finishes_in_flight_requests_and_exits_0(cgec, tmp_path):
    with server(cgec["model_dir"], tmp_path, "--batch-wait-ms", "1500") as s:
        replies: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: replies.append(post(s.url, json.dumps({"inputs": [SENTENCE]}).encode())))
        thread.start()
        s.wait_pending()  # the request waits in the batcher
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):  # no longer accepting
            httpx.get(f"{s.url}/health", timeout=2)
        thread.join(timeout=60)
        assert s.proc.wait(timeout=60) == 0
        assert [r.status_code for r in replies] == [200] and len(replies[0].json()["outputs"]) == 1
        assert "stopped by SIGTERM" in s.text() and "Traceback" not in s.text()


def test_sigterm_gives_up_on_requests_after_the_shutdown_timeout(cgec, tmp_path):
    with server(cgec["model_dir"], tmp_path, "--batch-wait-ms", "8000", "--shutdown-timeout", "1") as s:
        replies: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: replies.append(post(s.url, json.dumps({"inputs": [SENTENCE]}).encode())))
        thread.start()
        s.wait_pending()
        started = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=30) == 0
        assert time.monotonic() - started < 6  # 1 s of grace, not the 8 s the request would wait
        thread.join(timeout=30)
        assert [r.status_code for r in replies] == [503] and replies[0].json()["error"]["code"] == "shutting_down"
        assert "Traceback" not in s.text()
