"""Identity of experiments and grids: the one definition of ``exp_key``, its hex codec, and fingerprints.

Why one module: a key that two places compute differently makes results that no store matches. Everything that
names an experiment — the lazy grid (a million keys with a few NumPy operations), a single configuration run
through the Python API, the store's done-set, SLURM's "which shards are missing" — goes through these functions.

``exp_key`` = splitmix64( settings_hash XOR value_hash(dim_1, v_1) XOR ... XOR value_hash(dim_n, v_n) ), where
``value_hash`` is a 64-bit blake2b of ``"dim=value"`` (or ``"dim=value@version"`` for a value whose definition is
versioned: a user file's content hash, a plugin's version, a learner definition), and ``settings_hash`` hashes the
settings that change results (:data:`KEY_SETTINGS`). XOR makes the key independent of dimension and block order;
the splitmix64 finaliser spreads the bits. A dimension added after the first release enters the key only when it is
set, so the keys of existing stores stay valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "KEY_SETTINGS",
    "OPTIONAL_KEY_SETTINGS",
    "exp_key",
    "fingerprint",
    "hash64",
    "hex_to_keys",
    "key_settings_of",
    "keys_to_hex",
    "keys_to_hex_bytes",
    "settings_hash",
    "splitmix64",
    "value_hash",
]

#: Settings that change an experiment's result and therefore enter its exp_key.
KEY_SETTINGS: tuple[str, ...] = ("cycles", "test_size", "preprocessing")
#: Result-changing settings added later: they enter the key only when set, so existing keys stay valid
#: (``budget``: labels to reach instead of a number of cycles; such grids have ``cycles: None``).
OPTIONAL_KEY_SETTINGS: tuple[str, ...] = ("budget",)


def hash64(text: str) -> int:
    """A stable 64-bit hash (blake2b, little-endian), never Python's salted ``hash``."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def value_hash(dim: str, value: Any, version: str | None = None) -> int:
    """Hash of one (dimension, value); ``version`` distinguishes two definitions behind the same name."""
    return hash64(f"{dim}={value}" if not version else f"{dim}={value}@{version}")


def settings_hash(key_settings: Mapping[str, Any]) -> int:
    """Hash of the result-changing settings (exactly the :data:`KEY_SETTINGS`, JSON with sorted keys)."""
    return hash64("settings=" + json.dumps(dict(key_settings), sort_keys=True))


def key_settings_of(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`KEY_SETTINGS` of a grid's settings, plus the :data:`OPTIONAL_KEY_SETTINGS` that are set
    (KeyError names a missing one)."""
    missing = [k for k in KEY_SETTINGS if k not in settings]
    if missing:
        raise KeyError(f"settings lack {', '.join(missing)} (needed for exp_key)")
    out = {k: settings[k] for k in KEY_SETTINGS}
    out.update({k: settings[k] for k in OPTIONAL_KEY_SETTINGS if settings.get(k) is not None})
    return out


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Bijective 64-bit mixer (splitmix64's finaliser), so XOR-combined hashes look uniformly random."""
    x = np.asarray(x).astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def combine(settings_h: int, value_hashes: Iterable[int]) -> int:
    """The uint64 key of one experiment from its settings hash and its value hashes."""
    acc = np.uint64(settings_h)
    for h in value_hashes:
        acc ^= np.uint64(h)
    return int(splitmix64(np.array([acc], dtype=np.uint64))[0])


def exp_key(
    config: Mapping[str, Any],
    key_settings: Mapping[str, Any],
    dimensions: Iterable[str],
    versions: Mapping[str, str | None] | None = None,
) -> str:
    """The 16-hex key of one configuration: the scalar twin of :meth:`algrid.grid.Grid.keys_from_codes`.

    ``dimensions`` are the dimensions that enter the key (see :func:`algrid.results.key_dimensions`);
    ``versions`` maps a dimension to the version of this config's value, if it has one.
    """
    versions = versions or {}
    h = combine(settings_hash(key_settings), (value_hash(d, config[d], versions.get(d)) for d in dimensions))
    return format(h, "016x")


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def keys_to_hex_bytes(keys: np.ndarray) -> np.ndarray:
    """uint64 keys -> 16-character lowercase hex as ASCII bytes (vectorised; big-endian digit order)."""
    as_bytes = np.asarray(keys).astype(">u8").view(np.uint8).reshape(-1, 8)
    return _HEX[as_bytes].view("S16").reshape(-1)


def keys_to_hex(keys: np.ndarray) -> np.ndarray:
    """uint64 keys -> 16-character lowercase hex strings."""
    return keys_to_hex_bytes(keys).astype("U16")


def hex_to_keys(hex_keys: Iterable[str]) -> np.ndarray:
    """16-hex exp_keys -> uint64 (inverse of :func:`keys_to_hex`), vectorised."""
    joined = "".join(hex_keys)
    if not joined:
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(bytes.fromhex(joined), dtype=">u8").astype(np.uint64)


def fingerprint(canonical: Any) -> str:
    """16-hex blake2b of a JSON-able object (sorted keys): identifies a grid or a definition as a whole."""
    return hashlib.blake2b(json.dumps(canonical, sort_keys=True).encode(), digest_size=8).hexdigest()
