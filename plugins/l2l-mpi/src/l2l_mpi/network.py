"""Where the MPI processes of a run listen, and keeping that to loopback by default.

MPICH opens TCP listening sockets in three places: the netmod of every rank (UCX or OFI; its
interface is chosen by ``UCX_NET_DEVICES`` / ``FI_TCP_IFACE`` before ``MPI_Init``), the process
manager (Hydra's control port, always on all interfaces; the ``gforker`` manager of the mpich
wheel uses socket pairs instead) and, in a process that calls ``MPI_Comm_spawn`` without a
launcher, the singleton's PMI port (all interfaces; only used once, while the manager
connects back). The ``mpi`` executor therefore, by default (``host = "127.0.0.1"``):

* spawned: sets the netmod variables to ``lo`` before MPI starts, spawns through ``gforker``,
  shuts the singleton's PMI port once the ranks are up, then checks what is left;
* launched by ``mpiexec``: checks what this rank listens on (MPI already started), and refuses
  to run when that is beyond loopback, naming the addresses and how to launch on loopback.

A wider binding is explicit: ``host = "*"`` accepts any address (jobs across nodes need it),
``host = "<address>"`` accepts that address besides loopback.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .ranks import descendants

#: ``host`` values that mean "any interface"
ANY = ("*", "0.0.0.0", "::")
#: netmod variables that keep MPICH's UCX and OFI transports on the loopback interface
LOOPBACK_ENV = {"UCX_NET_DEVICES": "lo", "FI_TCP_IFACE": "lo", "FI_SOCKETS_IFACE": "lo"}


@dataclass(frozen=True)
class Listener:
    """A listening TCP socket: its address, port and one process holding it."""

    address: str
    port: int
    pid: int

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port} (pid {self.pid})"


def loopback(host: str) -> bool:
    """Whether ``host`` names the loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listeners(pids: Iterable[int]) -> list[Listener]:
    """The listening TCP sockets held by processes ``pids`` (Linux, /proc; [] elsewhere)."""
    table = _listening_inodes()
    out: dict[tuple[str, int], Listener] = {}
    for pid in pids:
        for inode in _socket_inodes(pid):
            if inode in table:
                address, port = table[inode]
                out.setdefault((address, port), Listener(address, port, pid))
    return sorted(out.values(), key=lambda x: (x.address, x.port))


def beyond(found: Iterable[Listener], host: str) -> list[Listener]:
    """The listeners that ``host`` does not allow (loopback is always allowed)."""
    if host in ANY:
        return []
    return [x for x in found if not loopback(x.address) and x.address != host]


def shut_singleton_port() -> list[Listener]:
    """Stop this process's singleton PMI port from listening (MPICH keeps it open on all
    interfaces after its process manager connected back; it is not used again). The port is
    the one this process passed to its ``mpiexec -pmi_args PORT``. Returns what was shut."""
    ports = set()
    for child in descendants(os.getpid()):  # the process manager it started
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-pmi_args" in argv:
            i = argv.index(b"-pmi_args")
            if i + 1 < len(argv) and argv[i + 1].isdigit():
                ports.add(int(argv[i + 1]))
    shut = []
    table = _listening_inodes()
    for fd, inode in _socket_fds(os.getpid()):
        if inode in table and table[inode][1] in ports and not loopback(table[inode][0]):
            with socket.socket(fileno=os.dup(fd)) as sock:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    continue
            shut.append(Listener(*table[inode], os.getpid()))
    return shut


def _listening_inodes() -> dict[str, tuple[str, int]]:
    out = {}
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":  # LISTEN
                address, port = fields[1].split(":")
                out[fields[9]] = (_address(address, family), int(port, 16))
    return out


def _address(hexed: str, family: int) -> str:
    raw = bytes.fromhex(hexed)
    if sys.byteorder == "little":  # /proc/net/tcp{,6} print each 32-bit word in host order
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, raw)


def _socket_fds(pid: int) -> list[tuple[int, str]]:
    out = []
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in entries:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.append((int(fd), target[8:-1]))
    return out


def _socket_inodes(pid: int) -> set[str]:
    return {inode for _, inode in _socket_fds(pid)}
