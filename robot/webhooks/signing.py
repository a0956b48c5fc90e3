"""Webhook signatures, Stripe's scheme. Standard library only: copy this file into a receiver.

Every delivery carries

    Jobber-Robot-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

where `v1` is the hex HMAC-SHA256, keyed with the endpoint's secret (`whsec_...`), of the bytes
`<t>.<raw request body>`. To verify: split the header on ",", take `t` and every `v1`, compute the
HMAC of f"{t}.".encode() + raw_body, compare in constant time with each `v1`, and refuse a `t`
more than `tolerance` seconds from now (a replayed old delivery). Use the raw body as received,
before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Jobber-Robot-Signature"
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    """The signature is missing, malformed, wrong, or too old."""


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value for `payload` signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(payload: bytes, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> int:
    """Check a delivery; returns its timestamp, or raises SignatureError."""
    if not header:
        raise SignatureError(f"no {HEADER} header")
    t: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k == "t" and v.isdigit():
            t = int(v)
        elif k == "v1":
            sigs.append(v)
    if t is None or not sigs:
        raise SignatureError("the header has no t=... or no v1=...")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise SignatureError("no v1 signature matches the body")
    if tolerance and abs((time.time() if now is None else now) - t) > tolerance:
        raise SignatureError("the timestamp is outside the tolerance")
    return t
