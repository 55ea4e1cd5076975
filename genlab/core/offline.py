"""genlab runs offline by default: the hub variables are set before transformers or datasets load.

Call ``set_offline(False)`` to reach the Hugging Face hub (e.g. to load ``gpt2``); models you load then are
cached and work offline afterwards. The variables are only *defaulted*: a value you exported wins.
"""

from __future__ import annotations

import os

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE", "TRANSFORMERS_OFFLINE")
QUIET_VARIABLES = {"TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "TOKENIZERS_PARALLELISM": "false"}


def default_offline() -> None:
    """Set the offline variables unless the user already chose a value."""
    for var in OFFLINE_VARIABLES:
        os.environ.setdefault(var, "1")
    for var, value in QUIET_VARIABLES.items():
        os.environ.setdefault(var, value)


def set_offline(offline: bool = True) -> None:
    """Switch the hub on or off for this process (takes effect for models and data sets loaded afterwards)."""
    for var in OFFLINE_VARIABLES:
        os.environ[var] = "1" if offline else "0"
    try:  # huggingface_hub reads the variable once at import; keep its constant in step
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = offline
    except ImportError:  # pragma: no cover - huggingface_hub is a transformers dependency
        pass


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


class NetworkAccessError(RuntimeError):
    """Raised when code tries to reach another machine while the network is forbidden."""


_saved: dict = {}


def _is_local(address) -> bool:
    import ipaddress

    if isinstance(address, (str, bytes)):  # an AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", "", None) or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def forbid_network() -> None:
    """Make every connection or name lookup to another machine raise :class:`NetworkAccessError`.

    Loopback stays allowed (Jupyter kernels talk to their server over it). ``make test`` and ``make report``
    turn this on through ``GENLAB_FORBID_NETWORK=1``, so a notebook that tries to download fails loudly.
    """
    import socket

    if _saved:
        return
    _saved.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                  getaddrinfo=socket.getaddrinfo)

    def connect(self, address):
        if not _is_local(address):
            raise NetworkAccessError(f"network access is forbidden here (tried to connect to {address!r})")
        return _saved["connect"](self, address)

    def connect_ex(self, address):
        if not _is_local(address):
            raise NetworkAccessError(f"network access is forbidden here (tried to connect to {address!r})")
        return _saved["connect_ex"](self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local((host,)):
            raise NetworkAccessError(f"network access is forbidden here (tried to resolve {host!r})")
        return _saved["getaddrinfo"](host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo


def allow_network() -> None:
    """Undo :func:`forbid_network`."""
    import socket

    if _saved:
        socket.socket.connect = _saved.pop("connect")
        socket.socket.connect_ex = _saved.pop("connect_ex")
        socket.getaddrinfo = _saved.pop("getaddrinfo")
