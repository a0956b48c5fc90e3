"""Support staff who may sign in to the dashboard: names and argon2id password hashes.

One Fernet-encrypted JSON file (DATA_DIR/staff.json, 0600) under the vault's key: a hash is not
the password, but it is what an offline guesser needs, so it is kept like the vault. The file is
read on every sign-in, so `jobber-robot staff add/remove` takes effect on a running `serve`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel

from robot.errors import InputError, VaultError
from robot.vault import _write_private, load_key

if TYPE_CHECKING:
    from robot.config import Settings

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
NAME_RULE = "a lowercase name: letters, digits, . _ @ or - (2-64 characters)"
MIN_PASSWORD = 12
PASSWORD_RULE = f"at least {MIN_PASSWORD} characters"

_HASHER = PasswordHasher()  # argon2id, the library's current defaults
#: verified against when the name is unknown, so an unknown name costs the same time as a wrong password
_DUMMY_HASH = _HASHER.hash("not a staff password, only a timing decoy")


class StaffUser(BaseModel):
    name: str
    password_hash: str
    created_at: datetime


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InputError("name", NAME_RULE)
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError("password", PASSWORD_RULE)
    return password


class StaffStore:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: "Settings") -> "StaffStore":
        return cls(settings.staff_path, load_key(settings))

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"version": 1, "staff": {}}
        try:
            return dict(json.loads(self._fernet.decrypt(self.path.read_bytes())))
        except InvalidToken:
            raise VaultError(f"the credential key does not open {self.path}; nothing was changed") from None

    def _write(self, doc: dict[str, Any]) -> None:
        _write_private(self.path, self._fernet.encrypt(json.dumps(doc).encode()))

    def list(self) -> list[StaffUser]:
        return [StaffUser.model_validate(u) for _, u in sorted(self._read()["staff"].items())]

    def add(self, name: str, password: str) -> StaffUser:
        check_name(name)
        check_password(password)
        doc = self._read()
        if name in doc["staff"]:
            raise InputError("name", "a staff user of that name exists already (remove it first)")
        user = StaffUser(name=name, password_hash=_HASHER.hash(password), created_at=datetime.now(UTC))
        doc["staff"][name] = user.model_dump(mode="json")
        self._write(doc)
        return user

    def remove(self, name: str) -> None:
        doc = self._read()
        if doc["staff"].pop(name, None) is None:
            raise InputError("name", "no staff user of that name (`jobber-robot staff list`)")
        self._write(doc)

    def exists(self, name: str) -> bool:
        return bool(NAME_RE.match(name or "")) and name in self._read()["staff"]

    def verify(self, name: str, password: str) -> bool:
        """True when `name` is a staff user and `password` is theirs. Rehashes an outdated hash."""
        doc = self._read()
        entry = doc["staff"].get(name) if NAME_RE.match(name or "") else None
        stored = entry["password_hash"] if entry else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if entry is None:
            return False
        if _HASHER.check_needs_rehash(stored):
            entry["password_hash"] = _HASHER.hash(password)
            self._write(doc)
        return True
