"""Start-up integrity of an export directory: every file's SHA-256, hashed once, then checked by stat.

Hashing every file on every start costs about a third of a second per 100 MB, more than the
rest of a start-up of a base-size model. So a file's verified digest is remembered together with
the file's identity and change stamps ``(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)`` in a
cache file outside the model directory (which may be read-only), and a later start hashes the file
again only if one of them changed or the cached digest is not the one ``config.json`` records.

Why this keeps the check: every write through the file system updates the file's ctime, and no
user-level call can set ctime back (``utime`` restores an old mtime but stamps ctime with *now*),
so content changed in place (even with size and mtime restored), a truncated or re-copied file and
a file renamed over the original all miss the cache and are hashed. A stamp taken within
:data:`RACY_SECONDS` of the hash is not cached (git's "racy index" rule: a write in the same clock
tick as the hash would otherwise go unnoticed). What it does not catch is damage below the file
system (a failing disk flipping bits without a write); ``TLM_FAIRSEQ_VERIFY=full`` hashes everything.

Why not verify lazily in a background thread until the first request: on the two-core machines
this targets, the hash would compete with session creation for the same cores, start-up to the
first answer would not get shorter, and a corrupt file would be reported after the server claimed
to be up. The cache makes the common start (nothing changed) cost a few ``stat`` calls.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("tlm.integrity")

CACHE_ENV = "TLM_FAIRSEQ_CACHE"  # folder for the cache; default $XDG_CACHE_HOME/tlm_fairseq
VERIFY_ENV = "TLM_FAIRSEQ_VERIFY"  # "full": hash every file on every start
RACY_SECONDS = 2.0
CACHE_VERSION = 2


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tlm_fairseq"


def _cache_file(root: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
    return cache_dir() / "verified" / f"{key}.json"


def _read_cache(path: Path) -> dict:
    """``{"files": {name: [*stamp, digest]}, "checks": {check: fingerprint}}`` (empty when unusable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("files"), dict) \
            or not isinstance(data.get("checks"), dict):
        return {"files": {}, "checks": {}}
    return {"files": data["files"], "checks": data["checks"]}


def _write_cache(path: Path, root: Path, cache: dict) -> None:
    from tlm_fairseq.files import write_text_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps({"version": CACHE_VERSION, "root": os.path.realpath(root), **cache},
                                           sort_keys=True) + "\n")
    except OSError as err:  # a read-only home: verification still happened, only the next start pays again
        log.debug("cannot write the integrity cache %s: %s", path, err)


def _settled(st: os.stat_result) -> bool:
    """Whether a stamp may be remembered: its last change is older than one clock tick's doubt."""
    return time.time() - st.st_ctime_ns / 1e9 > RACY_SECONDS


def mismatched(root: str | os.PathLike[str], expected: dict[str, str], full: bool | None = None) -> list[str]:
    """Names (of ``expected``: name -> SHA-256) whose content differs; missing files raise OSError.

    ``full``: hash every file regardless of the cache (default: ``TLM_FAIRSEQ_VERIFY=full``).
    """
    root = Path(root)
    if full is None:
        full = os.environ.get(VERIFY_ENV, "").lower() == "full"
    cache_path = _cache_file(root)
    cache = _read_cache(cache_path)
    cached = {} if full else cache["files"]
    fresh = {name: entry for name, entry in cache["files"].items() if name not in expected}  # other callers' files
    bad = []
    for name, digest in expected.items():
        before = os.stat(root / name)
        stamp = _stamp(before)
        entry = cached.get(name)
        if entry == [*stamp, digest]:
            fresh[name] = entry
            continue
        actual = sha256_file(root / name)
        if actual != digest:
            bad.append(name)
            continue
        after = os.stat(root / name)
        if _stamp(after) == stamp and _settled(after):
            fresh[name] = [*stamp, digest]
    if fresh != cache["files"] and not bad:
        _write_cache(cache_path, root, {"files": fresh, "checks": cache["checks"]})
    return bad


def _fingerprint(root: Path, names: list[str]) -> str | None:
    """The stamps of ``names`` as one digest, or None while one of them is too recent to trust."""
    stats = [os.stat(root / name) for name in sorted(names)]
    if not all(_settled(st) for st in stats):
        return None
    return hashlib.sha256(json.dumps([[n, *_stamp(st)] for n, st in zip(sorted(names), stats)]).encode()).hexdigest()


def passed(root: str | os.PathLike[str], check: str, names: list[str]) -> bool:
    """Whether ``check`` passed on exactly these files as they are now (none changed since).

    For checks that read the files (a probe run of the graphs, say): a pass recorded with
    :func:`record_pass` holds until any of ``names`` is written, replaced or renamed over.
    """
    if os.environ.get(VERIFY_ENV, "").lower() == "full":
        return False
    root = Path(root)
    recorded = _read_cache(_cache_file(root))["checks"].get(check)
    return recorded is not None and recorded == _fingerprint(root, names)


def record_pass(root: str | os.PathLike[str], check: str, names: list[str]) -> None:
    """Remember that ``check`` passed on ``names`` as they are now (see :func:`passed`)."""
    root = Path(root)
    fingerprint = _fingerprint(root, names)
    if fingerprint is None:
        return
    path = _cache_file(root)
    cache = _read_cache(path)
    cache["checks"][check] = fingerprint
    _write_cache(path, root, cache)


def once(root: str | os.PathLike[str], check: str, names: list[str], run: Callable[[], None]) -> bool:
    """Run ``check`` (``run`` raises if it fails) unless it passed on these unchanged files before;
    whether it ran."""
    if passed(root, check, names):
        return False
    run()
    record_pass(root, check, names)
    return True
