"""Encrypted credential vault: per merchant the Jobber login, its 2FA, and gateway API keys.

One Fernet-encrypted JSON file (0600) plus one encrypted storage-state file per merchant.
The key comes from JOBBER_ROBOT_CREDENTIAL_KEY or a key file (0600, made on first use).
A wrong key is refused before anything is written, so a typo cannot destroy the vault.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from robot.errors import InputError, VaultError
from robot.logging import register_secret

MERCHANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BASE32_RE = re.compile(r"^[A-Z2-7]{16,}=*$")
#: Changing one of these means the stored browser session belongs to another sign-in.
SIGN_IN_FIELDS = frozenset({"jobber_email", "jobber_password", "totp_seed", "two_factor", "jobber_url"})


JOBBER_URL_RULE = ("must be an https:// URL (http:// only on a loopback address, localhost, *.localhost or "
                   "*.test: the mock site), with a host and no user name or password")


def check_jobber_url(url: str) -> str:
    """A merchant's Jobber base URL, or ValueError(JOBBER_URL_RULE).

    The robot types the merchant's password into whatever this URL serves, so it must be a web
    origin over TLS: `javascript:`, `file:`, `data:` or a plain-http Jobber on the network would
    hand the password to anyone on the path. Plain http is left to loopback and the reserved
    test names the mock site uses (RFC 6761 .localhost/.test never resolve on the internet)."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError(JOBBER_URL_RULE)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(JOBBER_URL_RULE) from None
    if not host or parts.username is not None or parts.password is not None or parts.scheme not in ("https", "http"):
        raise ValueError(JOBBER_URL_RULE)
    if parts.scheme == "http" and not _local_host(host):
        raise ValueError(JOBBER_URL_RULE)
    return url.rstrip("/")


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".test")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TwoFactorMode(str, Enum):
    totp = "totp"          # the robot makes the code from the stored seed
    handoff = "handoff"    # a person hands the code over (SMS/e-mail to the merchant's phone)


class GatewayCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: str = Field(min_length=1, max_length=100)
    api_key: SecretStr


class MerchantCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    merchant: str
    jobber_email: str
    jobber_password: SecretStr
    two_factor: TwoFactorMode = TwoFactorMode.handoff
    totp_seed: SecretStr | None = None
    gateway: GatewayCredentials | None = None
    jobber_url: str | None = None
    business_name: str | None = Field(default=None, min_length=1, max_length=200)  # the account to land in
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("merchant")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not MERCHANT_RE.match(v):
            raise ValueError("must be a lowercase slug: letters, digits, - or _ (2-63 chars)")
        return v

    @field_validator("jobber_email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL_RE.match(v):
            raise ValueError("must be an e-mail address")
        return v

    @field_validator("jobber_url")
    @classmethod
    def _jobber_url(cls, v: str | None) -> str | None:
        return None if v is None else check_jobber_url(v)

    @field_validator("totp_seed")
    @classmethod
    def _seed(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        clean = v.get_secret_value().replace(" ", "").upper()
        if not BASE32_RE.match(clean):
            raise ValueError("must be the base32 secret shown when the authenticator was set up")
        return SecretStr(clean)

    @model_validator(mode="after")
    def _totp_needs_seed(self) -> "MerchantCredentials":
        if self.two_factor is TwoFactorMode.totp and self.totp_seed is None:
            raise ValueError("two_factor totp needs totp_seed")
        return self

    def summary(self) -> dict[str, str]:
        """What `list`/`show` print: never a secret."""
        return {
            "merchant": self.merchant,
            "jobber_email": self.jobber_email,
            "jobber_url": self.jobber_url or "(default)",
            "business_name": self.business_name or "—",
            "two_factor": self.two_factor.value,
            "totp_seed": "stored" if self.totp_seed else "—",
            "password": "stored",
            "gateway_merchant": self.gateway.merchant_id if self.gateway else "—",
            "gateway_api_key": "stored" if self.gateway else "—",
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
        }

    def register_secrets(self) -> None:
        register_secret(self.jobber_password.get_secret_value())
        if self.totp_seed:
            register_secret(self.totp_seed.get_secret_value())
        if self.gateway:
            register_secret(self.gateway.api_key.get_secret_value())


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _write_private(path: Path, data: bytes) -> None:
    """Atomic write of a 0600 file (never a moment where it is world-readable or half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def seal(settings: Any, text: str) -> str:
    """A secret that must pass through the job store (a handed-over 2FA code, a webhook's signing
    secret), encrypted with the vault key: the store only ever holds the ciphertext."""
    return Fernet(load_key(settings)).encrypt(text.encode()).decode()


def unseal(settings: Any, token: str) -> str:
    return Fernet(load_key(settings)).decrypt(token.encode()).decode()


def load_key(settings: Any) -> bytes:
    """The vault key: JOBBER_ROBOT_CREDENTIAL_KEY, else the key file (made 0600 on first use,
    but never when a vault already exists: a new key would not open it)."""
    if settings.credential_key is not None:
        key: bytes = settings.credential_key.get_secret_value().encode()
    else:
        key_file: Path = settings.key_file
        if not key_file.exists():
            if settings.vault_path.exists():
                raise VaultError(
                    f"vault {settings.vault_path} exists but its key file {key_file} is missing; "
                    "set JOBBER_ROBOT_CREDENTIAL_KEY or restore the key file"
                )
            _write_private(key_file, generate_key().encode())
        mode = key_file.stat().st_mode & 0o777
        if mode & 0o077:  # like ssh: a key others can read is as good as no encryption
            raise VaultError(f"the key file {key_file} can be read by other users (mode {mode:o}); "
                             f"run `chmod 600 {key_file}`")
        key = key_file.read_bytes().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise VaultError("the credential key is not a valid key (urlsafe base64 of 32 bytes); "
                         "make one with `jobber-robot merchants keygen`") from None
    return key


class Vault:
    def __init__(self, path: Path, sessions_dir: Path, key: bytes) -> None:
        self.path = path
        self.sessions_dir = sessions_dir
        self._fernet = Fernet(key)
        self._fernet_key = key

    @classmethod
    def from_settings(cls, settings: Any) -> "Vault":
        return cls(settings.vault_path, settings.sessions_dir, load_key(settings))

    # --- the vault file ---------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"version": 1, "merchants": {}}
        try:
            raw = self._fernet.decrypt(self.path.read_bytes())
        except InvalidToken:
            raise VaultError(
                f"the credential key does not open {self.path}: wrong JOBBER_ROBOT_CREDENTIAL_KEY "
                "or key file; nothing was changed"
            ) from None
        doc: dict[str, Any] = json.loads(raw)
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        _write_private(self.path, self._fernet.encrypt(json.dumps(doc).encode()))

    @staticmethod
    def _dump(creds: MerchantCredentials) -> dict[str, Any]:
        d = creds.model_dump(mode="json")
        d["jobber_password"] = creds.jobber_password.get_secret_value()
        d["totp_seed"] = creds.totp_seed.get_secret_value() if creds.totp_seed else None
        if creds.gateway:
            d["gateway"]["api_key"] = creds.gateway.api_key.get_secret_value()
        return d

    def check(self) -> None:
        """Raise VaultError when the key does not open the vault."""
        self._read()

    def list(self) -> list[MerchantCredentials]:
        doc = self._read()
        return [self._load(m) for m in sorted(doc["merchants"].values(), key=lambda m: m["merchant"])]

    def _load(self, data: dict[str, Any]) -> MerchantCredentials:
        creds = MerchantCredentials.model_validate(data)
        creds.register_secrets()
        return creds

    def get(self, merchant: str) -> MerchantCredentials:
        doc = self._read()
        data = doc["merchants"].get(merchant)
        if data is None:
            raise VaultError(f"no merchant {merchant!r} in the vault; add it with `jobber-robot merchants add {merchant}`")
        return self._load(data)

    def has(self, merchant: str) -> bool:
        return merchant in self._read()["merchants"]

    def check_known(self, merchant: str) -> None:
        """InputError naming `merchant` unless the vault holds it: a job for a merchant the robot
        cannot sign in as is refused at intake, not queued to fail later. (The slug is not
        repeated: whatever was typed there may be something else.)"""
        if not self.has(merchant):
            raise InputError("merchant", "no such merchant in the vault (`jobber-robot merchants list`; add one "
                                         "with `jobber-robot merchants add`)")

    def put(self, creds: MerchantCredentials) -> None:
        doc = self._read()  # refuses a wrong key before anything is written
        creds.register_secrets()
        doc["merchants"][creds.merchant] = self._dump(creds.model_copy(update={"updated_at": datetime.now(UTC)}))
        self._write(doc)

    def update(self, merchant: str, **changes: Any) -> MerchantCredentials:
        current = self.get(merchant)
        data = self._dump(current)
        changes = {k: v for k, v in changes.items() if v is not None}  # None: not given, keep
        data.update(changes)
        try:
            creds = MerchantCredentials.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_input=False)[0]
            raise InputError(".".join(str(p) for p in err["loc"]) or "merchant",
                             err["msg"].removeprefix("Value error, ")) from None
        self.put(creds)
        if changes.keys() & SIGN_IN_FIELDS:
            self.clear_sign_in_stop(merchant)  # a person acted (unblocked, signed in by hand)
            # a new login (or another site) makes the old session stale; a new gateway key does
            # not, and keeping the session spares a handoff merchant a 2FA code
            self.clear_storage_state(merchant)
        return creds

    def remove(self, merchant: str) -> None:
        doc = self._read()
        if doc["merchants"].pop(merchant, None) is None:
            raise VaultError(f"no merchant {merchant!r} in the vault")
        self._write(doc)
        self.clear_storage_state(merchant)
        self._refused_path(merchant).unlink(missing_ok=True)

    # --- browser storage state (cookies, remembered device) ------------------------------
    def _state_path(self, merchant: str) -> Path:
        if not MERCHANT_RE.match(merchant):
            raise VaultError(f"bad merchant id {merchant!r}")
        return self.sessions_dir / f"{merchant}.state"

    def load_storage_state(self, merchant: str) -> dict[str, Any] | None:
        path = self._state_path(merchant)
        if not path.exists():
            return None
        try:
            state: dict[str, Any] = json.loads(self._fernet.decrypt(path.read_bytes()))
        except InvalidToken:
            return None  # written under another key: log in afresh rather than fail
        for cookie in state.get("cookies", []):
            register_secret(cookie.get("value"))
        return state

    def save_storage_state(self, merchant: str, state: Mapping[str, Any]) -> None:
        for cookie in state.get("cookies", []):
            register_secret(cookie.get("value"))
        _write_private(self._state_path(merchant), self._fernet.encrypt(json.dumps(state).encode()))

    def clear_storage_state(self, merchant: str) -> None:
        self._state_path(merchant).unlink(missing_ok=True)

    # --- a password Jobber refused ---------------------------------------------------------
    # Jobber locks an account after a few wrong passwords, so once it refuses the stored one no
    # worker (in any process, after any restart) submits that same password again: only a
    # changed e-mail or password (`merchants update`) is tried. The file holds a keyed hash of
    # what was refused, never the password.
    def _refused_path(self, merchant: str) -> Path:
        return self._state_path(merchant).with_suffix(".refused")

    def _sign_in_hash(self, creds: MerchantCredentials) -> str:
        text = f"{creds.jobber_email}\0{creds.jobber_password.get_secret_value()}".encode()
        return hmac.new(self._fernet_key, text, hashlib.sha256).hexdigest()

    def _seed_hash(self, creds: MerchantCredentials) -> str:
        seed = creds.totp_seed.get_secret_value() if creds.totp_seed else ""
        return hmac.new(self._fernet_key, f"seed\0{seed}".encode(), hashlib.sha256).hexdigest()

    def _refusals(self, merchant: str) -> dict[str, Any]:
        try:
            doc = json.loads(self._refused_path(merchant).read_text())
        except (FileNotFoundError, ValueError):
            return {}
        if "hash" in doc:  # the first format held the password's refusal only
            doc = {"password": doc}
        return doc if isinstance(doc, dict) else {}

    def _mark(self, merchant: str, kind: str, digest: str, **extra: Any) -> None:
        doc = self._refusals(merchant)
        doc[kind] = {"hash": digest, "at": datetime.now(UTC).isoformat(timespec="seconds"), **extra}
        _write_private(self._refused_path(merchant), json.dumps(doc).encode())

    def _refused(self, merchant: str, kind: str, digest: str) -> dict[str, Any] | None:
        entry = self._refusals(merchant).get(kind)
        return entry if isinstance(entry, dict) and entry.get("hash") == digest else None

    def mark_password_refused(self, creds: MerchantCredentials) -> None:
        self._mark(creds.merchant, "password", self._sign_in_hash(creds))

    def password_refused_at(self, creds: MerchantCredentials) -> str | None:
        """When Jobber refused exactly these credentials, or None (never, or changed since)."""
        entry = self._refused(creds.merchant, "password", self._sign_in_hash(creds))
        return entry.get("at") if entry else None

    # A refused authenticator code means the seed (or the clock) is wrong: every later code from
    # it would be refused too, and each one spends one of Jobber's few tries before a lock-out.
    def mark_seed_refused(self, creds: MerchantCredentials, note: str = "") -> None:
        self._mark(creds.merchant, "totp_seed", self._seed_hash(creds), note=note)

    def seed_refused(self, creds: MerchantCredentials) -> dict[str, Any] | None:
        """{"at", "note"} when Jobber refused a code made from exactly this seed, else None."""
        return self._refused(creds.merchant, "totp_seed", self._seed_hash(creds))

    # A block (10 failed sign-ins) or a CAPTCHA is a person's to clear; the robot stops trying
    # until `merchants update` is run after they did.
    def mark_sign_in_stopped(self, creds: MerchantCredentials, reason: str) -> None:
        self._mark(creds.merchant, "stopped", self._sign_in_hash(creds), reason=reason)

    def sign_in_stopped(self, creds: MerchantCredentials) -> dict[str, Any] | None:
        return self._refused(creds.merchant, "stopped", self._sign_in_hash(creds))

    def clear_sign_in_stop(self, merchant: str) -> None:
        doc = self._refusals(merchant)
        if doc.pop("stopped", None) is not None:
            _write_private(self._refused_path(merchant), json.dumps(doc).encode())
