"""Scan files for the test secrets of a `Registry` (tests/secrets_registry.py).

Every file is read as what it holds, not only as bytes: zip archives (Playwright traces, bundles)
are opened and each member scanned, gzip is inflated, SQLite databases (the job store, DBOS's
serialized inputs and outputs) are read row by row, base64 runs (DBOS's pickles, HAR bodies) are
decoded, PNG text chunks (a screenshot's metadata) are read; file and member names are scanned
too. Secrets are looked for as they are and as they are written into URLs, HTML and JSON; card
numbers with or without separators; codes and CVVs as digit runs of their own (a CVV only next to
a cvv/cvc/security code label: three digits alone are everywhere).

A hit names the file (and the member, table or decoding), and the kind of secret, never the
secret itself.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import io
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from tests.secrets_registry import PATTERNS, Registry

MAX_FILE = 256 * 1024 * 1024
_DEPTH = 4

#: a run of digits and separators not glued to letters (a digit run inside an id is no card number:
#: the robot's own rule, robot.cards)
_DIGIT_RUN = re.compile(rb"(?<![A-Za-z0-9])[0-9](?:[ .\-]?[0-9])*(?![A-Za-z0-9])")
#: a code, not the microseconds of a log timestamp ("14:10:41.394209Z" met a run's code in CI)
_CODE = re.compile(rb"(?<![0-9])(?<!:[0-9]{2}\.)([0-9]{3})[ +-]?([0-9]{3})(?![0-9])")
_CVV = re.compile(rb"(?i)(?:cvv|cvc|csc|security[ _-]?code)[^0-9a-z]{0,12}([0-9]{3,4})(?![0-9])")
_B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{24,}={0,2}")
_PATTERNS = [(re.compile(p.encode()), kind) for kind, p in PATTERNS.items()]
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"GIF8", b"RIFF", b"\x1aE\xdf\xa3")  # jpeg, gif, webp, webm


@dataclass(frozen=True, order=True)
class Hit:
    path: str
    where: str
    kind: str

    def __str__(self) -> str:
        return f"{self.path}{' [' + self.where + ']' if self.where else ''}: {self.kind}"


def _variants(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), html.escape(value), json.dumps(value)[1:-1]}


class Scanner:
    def __init__(self, registry: Registry, skip_kinds: dict[str, set[str]] | None = None) -> None:
        self.registry = registry
        #: file-name pattern -> kinds not looked for in it (a server's own store holds its own secrets)
        self.skip_kinds = {re.compile(k): v for k, v in (skip_kinds or {}).items()}
        lit: dict[bytes, str] = {}
        for value, kind in registry.literals.items():
            for v in _variants(value):
                lit.setdefault(v.encode(), kind)
        self._literal_kind = lit
        ordered = sorted(lit, key=len, reverse=True)
        self._literal_re = re.compile(b"|".join(re.escape(v) for v in ordered)) if ordered else None

    # --- one blob -------------------------------------------------------------------------
    def scan_bytes(self, data: bytes, *, texty: bool = True, depth: int = 0) -> set[tuple[str, str]]:
        """(kind, decoding) for every secret in `data` (decoding "" when found as it is)."""
        found: set[tuple[str, str]] = set()
        if depth > _DEPTH or not data:
            return found
        if data.startswith(b"PK\x03\x04"):
            for name, member in self._zip_members(data):
                found |= {(k, f"{name}{'/' + w if w else ''}") for k, w in self._name_hits(name)}
                found |= {(k, f"{name}{'/' + w if w else ''}") for k, w in self.scan_bytes(member, depth=depth + 1)}
            return found
        if data.startswith(b"\x1f\x8b"):
            try:
                return {(k, f"gunzip{'/' + w if w else ''}") for k, w in
                        self.scan_bytes(gzip.decompress(data), depth=depth + 1)}
            except (OSError, EOFError, zlib.error):
                pass
        if data.startswith(b"\x89PNG"):
            return {(k, "png text") for k, _ in self._scan_plain(self._png_text(data), texty=True)}
        if data.startswith(_IMAGE_MAGIC):
            texty = False
        found |= self._scan_plain(data, texty=texty)
        if texty and depth < 2:
            for m in _B64_RUN.finditer(data):
                decoded = _b64(m.group())
                if decoded:
                    found |= {(k, "base64" + ("/" + w if w else "")) for k, w in
                              self.scan_bytes(decoded, depth=depth + 1)}
        return found

    def _scan_plain(self, data: bytes, *, texty: bool) -> set[tuple[str, str]]:
        reg = self.registry
        found: set[tuple[str, str]] = set()
        if self._literal_re is not None:
            for m in self._literal_re.finditer(data):
                found.add((self._literal_kind[m.group()], ""))
        for pattern, kind in _PATTERNS:
            if pattern.search(data):
                found.add((kind, ""))
        if not texty:
            return found
        if reg.cards or reg.bank_accounts:
            for m in _DIGIT_RUN.finditer(data):
                run = m.group()
                if len(run) < 6:
                    continue
                digits = re.sub(rb"[ .\-]", b"", run).decode()
                if any(c in digits for c in reg.cards):
                    found.add(("card_number", ""))
                if any(a in digits for a in reg.bank_accounts):
                    found.add(("bank_account", ""))
        if reg.codes:
            for m in _CODE.finditer(data):
                if (m.group(1) + m.group(2)).decode() in reg.codes:
                    found.add(("code", ""))
        if reg.cvvs:
            for m in _CVV.finditer(data):
                if m.group(1).decode() in reg.cvvs:
                    found.add(("cvv", ""))
        return found

    def _name_hits(self, name: str) -> set[tuple[str, str]]:
        return {(k, "file name") for k, _ in self._scan_plain(name.encode(), texty=True)}

    @staticmethod
    def _zip_members(data: bytes) -> Iterator[tuple[str, bytes]]:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if not info.is_dir() and info.file_size <= MAX_FILE:
                        yield info.filename, z.read(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, zlib.error):
            return

    @staticmethod
    def _png_text(data: bytes) -> bytes:
        out: list[bytes] = []
        pos = 8
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos:pos + 4], "big")
            ctype = data[pos + 4:pos + 8]
            body = data[pos + 8:pos + 8 + length]
            if ctype in (b"tEXt", b"iTXt"):
                out.append(body)
            elif ctype == b"zTXt":
                key, _, rest = body.partition(b"\0")
                try:
                    out.append(key + b"\0" + zlib.decompress(rest[1:]))
                except zlib.error:
                    out.append(body)
            pos += 12 + length
        return b"\n".join(out)

    # --- files ----------------------------------------------------------------------------
    def scan_file(self, path: Path, label: str) -> set[Hit]:
        skip: set[str] = set()
        for pattern, kinds in self.skip_kinds.items():
            if pattern.search(path.name):
                skip |= kinds
        found = set(self._name_hits(label))
        try:
            size = path.stat().st_size
            if size > MAX_FILE:
                return {Hit(label, "", f"unscanned ({size} bytes: larger than the scan's limit)")}
            with path.open("rb") as f:
                head = f.read(16)
            if head.startswith(b"SQLite format 3\0"):
                found |= self._scan_sqlite(path)
            else:
                found |= self.scan_bytes(path.read_bytes())
        except FileNotFoundError:
            return set()  # removed while the scan ran (a browser's profile): nothing left to leak
        except (OSError, sqlite3.Error) as exc:
            return {Hit(label, "", f"unreadable ({type(exc).__name__})")}
        if any(where == "file name" for _, where in found):
            label = self.mask(label)
        return {Hit(label, self.mask(where), kind) for kind, where in found if kind not in skip}

    def mask(self, text: str) -> str:
        """`text` (a path, a member name) with every secret in it replaced by its kind."""
        if self._literal_re is not None:
            text = self._literal_re.sub(lambda m: f"[{self._literal_kind[m.group()]}]".encode(),
                                        text.encode()).decode(errors="replace")
        return re.sub(r"[0-9](?:[ .+-]?[0-9]){5,}", lambda m: "[digits]" if len(re.sub(r"\D", "", m.group())) >= 6
                      else m.group(), text)

    def _scan_sqlite(self, path: Path) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "db.sqlite"
            shutil.copyfile(path, copy)
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    shutil.copyfile(side, Path(tmp) / f"db.sqlite{suffix}")
            con = sqlite3.connect(copy)
            try:
                tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                for table in tables:
                    for row in con.execute(f'SELECT * FROM "{table}"'):
                        for cell in row:
                            if isinstance(cell, str):
                                cell = cell.encode()
                            if isinstance(cell, bytes):
                                found |= {(k, f"table {table}{'/' + w if w else ''}") for k, w in self.scan_bytes(cell)}
            finally:
                con.close()
        # what the rows do not show (freed pages, the journal) is scanned as bytes
        found |= {(k, "raw") for k, _ in self._scan_plain(path.read_bytes(), texty=True)}
        return found

    def scan_tree(self, roots: Iterable[Path], exclude: Iterable[Path] = ()) -> list[Hit]:
        excluded = [p.resolve() for p in exclude]
        hits: set[Hit] = set()
        seen: set[Path] = set()
        for root in roots:
            root = root.resolve()
            if not root.exists():
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = [d for d in dirnames if (here / d).resolve() not in excluded]
                for name in filenames:
                    path = here / name
                    if path.is_symlink() or not path.is_file():
                        continue
                    real = path.resolve()
                    if real in seen or real in excluded:
                        continue
                    seen.add(real)
                    hits |= self.scan_file(path, str(path))
        return sorted(hits)


def _b64(run: bytes) -> bytes | None:
    raw = run.rstrip(b"=")
    if len(raw) < 24:
        return None
    pad = b"=" * (-len(raw) % 4)
    try:
        if b"-" in raw or b"_" in raw:
            out = base64.urlsafe_b64decode(raw + pad)
        else:
            out = base64.b64decode(raw + pad, validate=True)
    except (binascii.Error, ValueError):
        return None
    return out
