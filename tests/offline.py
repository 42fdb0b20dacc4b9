"""A process whose sockets cannot leave the machine, for tests that prove no network use.

Two locks, neither of which is `HF_HUB_OFFLINE` (the point is to prove no network use, not to
ask libraries to avoid it):
- a `sitecustomize.py` on PYTHONPATH makes `socket.connect`/`connect_ex` (and so every HTTP client)
  raise for any address that is not loopback or a Unix socket, and records each attempt in a file;
- every proxy variable points at an unroutable local port (127.0.0.1:9, the discard port), so a
  client that honours proxies fails too.
"""

import os
import textwrap

SITECUSTOMIZE = textwrap.dedent('''
    """Installed by tests/offline.py: no socket may reach beyond loopback."""
    import ipaddress
    import os
    import socket

    _LOG = os.environ["NETWORK_ATTEMPTS_LOG"]
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


    def _is_local(sock, address):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return True
        host = address[0] if isinstance(address, tuple) else address
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


    def _refuse(sock, address):
        with open(_LOG, "a") as log:
            log.write(f"{address!r}\\n")
        raise OSError(101, f"network is off for this test (connect to {address!r})")


    def connect(self, address):
        if not _is_local(self, address):
            _refuse(self, address)
        return _connect(self, address)


    def connect_ex(self, address):
        if not _is_local(self, address):
            _refuse(self, address)
        return _connect_ex(self, address)


    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
''')
PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def offline_env(folder):
    """The environment of an offline subprocess; its attempts go to `folder/attempts.log`."""
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {key: value for key, value in os.environ.items()
           if key not in ("NO_PROXY", "no_proxy", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({name: PROXY for name in PROXY_VARIABLES})
    env.update(PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               NETWORK_ATTEMPTS_LOG=str(folder / "attempts.log"), TF_CPP_MIN_LOG_LEVEL="2")
    return env
