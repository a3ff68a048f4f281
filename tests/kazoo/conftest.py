"""Shared fixtures for the kazoo conformance suite.

The server under test is given by ``ZK_ADDR`` (host:port). Every test works below its own
fresh root znode (``base``), so tests never see each other's nodes.
"""

import os
import socket
import threading
import uuid

import pytest
from kazoo.client import KazooClient

# Generous bound for anything we wait for (events, expiry): never a timing assertion.
WAIT = 30.0


def zk_addr():
    addr = os.environ.get("ZK_ADDR")
    if not addr:
        pytest.exit("ZK_ADDR is not set: export ZK_ADDR=host:port of the server under test", 2)
    return addr


@pytest.fixture(scope="session")
def addr():
    return zk_addr()


@pytest.fixture
def make_client(addr):
    """Factory for started KazooClients; all are stopped and closed at teardown."""
    clients = []

    def make(**kwargs):
        kwargs.setdefault("timeout", 10.0)
        client = KazooClient(hosts=addr, **kwargs)
        client.start(timeout=WAIT)
        clients.append(client)
        return client

    yield make
    for client in clients:
        try:
            client.stop()
            client.close()
        except Exception:  # noqa: BLE001 - teardown must not mask the test result
            pass


@pytest.fixture
def zk(make_client):
    return make_client()


@pytest.fixture
def base(zk):
    """A fresh persistent node for this test, deleted recursively afterwards."""
    path = "/conformance-" + uuid.uuid4().hex[:12]
    zk.create(path, b"")
    yield path
    try:
        zk.delete(path, recursive=True)
    except Exception:  # noqa: BLE001
        pass


def four_letter(addr, cmd):
    """Sends a four-letter word and reads until the server closes the connection."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
        sock.sendall(cmd.encode("ascii"))
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


class EventLog:
    """A thread-safe list of watch events with a bounded wait."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, count, timeout=WAIT):
        with self.cond:
            self.cond.wait_for(lambda: len(self.events) >= count, timeout)
            return list(self.events)


def wait_until(predicate, timeout=WAIT, interval=0.1):
    """Polls ``predicate`` until it is true or the bound passes; returns its last value."""
    import time

    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
