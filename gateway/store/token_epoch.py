"""
`TokenEpoch`: a counter that every process using one SQLite store shares, raised after each change
to its tokens, so that a process may keep the token records it has read for as long as the counter
has not moved (gateway/provisioning/tokens.py) and still refuse a revoked token on its next request,
whichever process revoked it: another worker, the CLI, the token API.

It is 8 bytes in a file beside the database (`<db>.token-epoch`), mapped into memory: reading it
costs a memory read on the event loop, no query and no thread hop. Raising it takes a file lock
(one writer at a time, across processes) and runs on a thread. The file holds no secret and may
be deleted; it is made again, at 0, by the next process that opens the store, while a process
that still maps the old one only falls back on its cache's age limit.

PostgreSQL replicas run on several hosts and share no file: their store has no epoch, and every
request reads its token.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

_COUNTER = struct.Struct("<Q")  # one aligned 8-byte word: a single store on x86-64 and ARM64


class TokenEpoch:
    def __init__(self, path: Path, *, like: Path | None = None) -> None:
        """
        Open (or make) the counter at `path`. A new file gets the mode, and when this process
        may, the owner of `like` (the database): whoever may change the database may raise the
        counter, e.g. the gateway's service user after `scim-gateway token revoke` ran as root.
        """
        self.path = path
        self._fd = _open_like(path, like)
        try:
            with self._locked():
                if os.fstat(self._fd).st_size < _COUNTER.size:
                    os.ftruncate(self._fd, _COUNTER.size)  # a new file: the counter starts at 0
            self._map = mmap.mmap(self._fd, _COUNTER.size)
        except BaseException:
            os.close(self._fd)
            raise
        self._thread_lock = threading.Lock()  # flock does not keep this process's threads apart

    @classmethod
    def beside(cls, database: Path) -> TokenEpoch:
        """The epoch of the database file (symlinks resolved: one file whatever path reaches it)."""
        real = database.resolve()
        return cls(real.with_name(real.name + ".token-epoch"), like=real)

    def read(self) -> int:
        return _COUNTER.unpack_from(self._map, 0)[0]

    def bump(self) -> None:
        """Raise the counter by one (blocks for the file lock: call it on a thread)."""
        with self._thread_lock, self._locked():
            _COUNTER.pack_into(self._map, 0, (self.read() + 1) % 2**64)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def _open_like(path: Path, like: Path | None) -> int:
    try:
        model = os.stat(like) if like is not None else None
    except FileNotFoundError:
        model = None
    mode = stat.S_IMODE(model.st_mode) if model is not None else 0o600
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        return os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    os.fchmod(fd, mode)  # the mode as given, whatever the umask
    if model is not None:
        owner = model.st_uid if os.geteuid() == 0 else -1  # only root may give a file away
        with contextlib.suppress(PermissionError):  # the group only if this user is in it
            os.fchown(fd, owner, model.st_gid)
    return fd
