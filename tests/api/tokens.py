"""Clerk-style session tokens for the chat tests (a test key pair made once per run)."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://clerk.chatdesk.test"
PARTY = "https://app.chatdesk.test"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    _KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)

CLERK_CONFIG = {
    "CLERK_JWT_KEY": PUBLIC_PEM,
    "CLERK_ISSUER": ISSUER,
    "CLERK_AUTHORIZED_PARTIES": [PARTY],
}


def token_for(user: Any, ttl: int = 600) -> str:
    """A valid session token naming `user` (claims match the stored account)."""
    now = int(time.time())
    claims = {
        "sub": user.id,
        "iss": ISSUER,
        "azp": PARTY,
        "iat": now,
        "nbf": now - 5,
        "exp": now + ttl,
        "username": user.username,
        "email": user.email,
    }
    if user.first_name:
        claims["first_name"] = user.first_name
    if user.last_name:
        claims["last_name"] = user.last_name
    return jwt.encode(claims, _KEY, algorithm="RS256")


def bearer(user: Any) -> dict[str, str]:
    """Authorization header for `user`."""
    return {"Authorization": f"Bearer {token_for(user)}"}
