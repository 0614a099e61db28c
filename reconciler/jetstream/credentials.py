"""User credentials for NATS: nkey seed files and .creds files, checked before nats-py reads them."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from ..errors import UserError, keep_secret


def _read_secret_file(path: str, what: str) -> str:
    """The text of a file holding a secret; unreadable or binary, a UserError that quotes none of it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path}: not a text file (it is not valid UTF-8)") from None


def read_user_seed(path: str) -> str:
    """The nkey user seed in ``path`` (first line starting with ``S``), checked, never echoed."""
    text = _read_secret_file(path, "nkey seed file")
    candidates = [line.strip() for line in text.splitlines() if line.strip().startswith("S")]
    if not candidates:
        raise UserError(f"nkey seed file {path}: no seed found (a seed is a line starting with 'SU')")
    seed = candidates[0]
    keep_secret(seed)
    role = seed_role(seed)
    if role is None:
        raise UserError(f"nkey seed file {path}: the seed is malformed")
    if role != "user":
        raise UserError(f"nkey seed file {path}: holds a seed of type {role}, connecting needs a user seed (SU...)")
    return seed


def check_creds_file(path: str) -> None:
    """Check a .creds file (as `nsc generate creds` writes it) before nats-py reads it: it gives
    obscure errors, or loops forever, on a file without the expected blocks."""
    text = _read_secret_file(path, "creds file")
    blocks = dict(_CREDS_BLOCK.findall(text))
    keep_secret(*blocks.values())
    if blocks.get("NATS USER JWT", "").count(".") != 2:
        raise UserError(f"creds file {path}: no user JWT found (expected the layout `nsc generate creds` writes)")
    seed = blocks.get("USER NKEY SEED", "")
    if not seed:
        raise UserError(f"creds file {path}: no user nkey seed found")
    if seed_role(seed) != "user":
        raise UserError(f"creds file {path}: the user nkey seed is malformed")


# "-----BEGIN NAME-----" followed by the value alone on the next line
_CREDS_BLOCK = re.compile(r"^-+BEGIN ([A-Z ]+?)-+[ \t]*\r?\n[ \t]*(\S+)[ \t]*\r?$", re.MULTILINE)
_SEED_BYTES = 2 + 32 + 2  # prefix bytes, key, CRC-16
NKEY_ROLES = ("user", "account", "operator", "server", "cluster")


def nkey_prefix(role: str) -> int:
    """The nkeys prefix byte of a role (``user`` -> ``PREFIX_BYTE_USER``)."""
    import nkeys

    return getattr(nkeys, f"PREFIX_BYTE_{role.upper()}")


def seed_role(seed: str) -> str | None:
    """``user``/``account``/``operator``/... for a well-formed seed, None when it is malformed.

    The nkeys package neither checks the length nor the checksum, so a mistyped seed would be
    taken for another key; this checks both, as the Go implementation does.
    """
    import nkeys

    try:
        raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
        prefix, _ = nkeys.decode_seed(seed.encode())
    except (ValueError, nkeys.NkeysError):
        return None
    if len(raw) != _SEED_BYTES or nkeys.crc16_checksum(raw[:-2]) != raw[-2:]:
        return None
    return next((role for role in NKEY_ROLES if nkey_prefix(role) == prefix), None)
