"""
Password hashes for the team members the gateway itself keeps (the embedded team directory) and
for brig-lite's accounts: scrypt, `scrypt$N$r$p$salt$hash` (base64), checked in constant time.
Hashing is slow on purpose, so callers on the event loop use the `_async` forms (a worker thread).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

# scrypt cost: 2^14 x 8 x 1 uses 16 MiB and some tens of milliseconds, run off the event loop.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

MIN_PASSWORD_CHARS = 6  # Wire's PlainTextPassword6


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64); slow on purpose: call through `hash_password_async`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    given = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(given, base64.b64decode(digest))


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
