"""genlab is offline by default, and the test guard really stops network connections."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from genlab.core.offline import NetworkAccessError


def test_offline_variables_are_set_by_importing_genlab():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    code = "import os, genlab; print(os.environ['HF_HUB_OFFLINE'], os.environ['HF_DATASETS_OFFLINE'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]


def test_a_user_choice_wins_over_the_default():
    env = dict(os.environ, HF_HUB_OFFLINE="0")
    code = "import os, genlab; print(os.environ['HF_HUB_OFFLINE'], genlab.is_offline())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def test_guard_blocks_a_remote_connection():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkAccessError):
            s.connect(("93.184.216.34", 80))
        with pytest.raises(NetworkAccessError):
            socket.getaddrinfo("huggingface.co", 443)
    finally:
        s.close()


def test_guard_allows_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket()
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()


def test_forbidding_the_network_reaches_notebook_kernels_through_the_environment():
    env = dict(os.environ, GENLAB_FORBID_NETWORK="1")
    code = (
        "import socket, genlab\n"
        "try:\n    socket.create_connection(('198.51.100.7', 443), timeout=1)\n"
        "except genlab.core.offline.NetworkAccessError:\n    print('blocked')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "blocked"


def test_set_offline_round_trip():
    import genlab

    genlab.set_offline(False)
    try:
        assert not genlab.is_offline()
    finally:
        genlab.set_offline(True)
    assert genlab.is_offline()
