"""Lifecycle fixtures: a JWKS server of our own on loopback, Svix signing, Clerk payloads."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from svix.webhooks import Webhook

WEBHOOK_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
ISSUER = "https://clerk.chatdesk.test"
PARTY = "https://app.chatdesk.test"


class SigningKey:
    """An RSA key pair with a key id: signs tokens, publishes its public half as a JWK."""

    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        data.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return data

    def token(self, sub: str = "user_2jwksTEST", **claims: Any) -> str:
        now = int(time.time())
        body = {"sub": sub, "iss": ISSUER, "azp": PARTY, "iat": now, "nbf": now - 5}
        body["exp"] = now + 600
        body.update(claims)
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


class JwksServer:
    """Serves `keys` as a JWKS on a loopback port and counts the requests it answers."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps({"keys": [k.jwk() for k in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=10)
            self.running = False


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    """A JWKS endpoint of the test's own, stopped at the end."""
    server = JwksServer()
    yield server
    server.stop()


class Clock:
    """A monotonic clock the test moves by hand (the key cache reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def svix_headers(
    body: str,
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
    secret: str = WEBHOOK_SECRET,
) -> dict[str, str]:
    """The svix-id, svix-timestamp and svix-signature headers Svix would send with `body`."""
    msg_id = msg_id or "msg_" + base64.b32encode(os.urandom(10)).decode().lower()
    at = at or datetime.now(UTC)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, at, body),
        "Content-Type": "application/json",
    }


def ms(dt: datetime) -> int:
    """A datetime as Clerk's Unix milliseconds."""
    return int(dt.replace(tzinfo=dt.tzinfo or UTC).timestamp() * 1000)


def clerk_user(
    user_id: str = "user_2clerkWEBHOOK",
    *,
    username: str | None = "clerkuser",
    email: str = "clerk.user@example.test",
    first_name: str | None = "Cleo",
    last_name: str | None = "Clerkson",
    updated_at: datetime | None = None,
    created_at: datetime | None = None,
    last_sign_in_at: datetime | None = None,
) -> dict[str, Any]:
    """A user object shaped like the `data` of Clerk's documented user.created event."""
    created = created_at or datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    updated = updated_at or created
    return {
        "id": user_id,
        "object": "user",
        "username": username,
        "first_name": first_name,
        "last_name": last_name,
        "image_url": f"https://img.clerk.com/{user_id}.png",
        "has_image": True,
        "primary_email_address_id": "idn_primary",
        "primary_phone_number_id": None,
        "primary_web3_wallet_id": None,
        "email_addresses": [
            {
                "id": "idn_secondary",
                "object": "email_address",
                "email_address": "other." + email,
                "linked_to": [],
                "verification": {"status": "verified", "strategy": "email_code"},
            },
            {
                "id": "idn_primary",
                "object": "email_address",
                "email_address": email,
                "linked_to": [],
                "verification": {"status": "verified", "strategy": "ticket"},
            },
        ],
        "phone_numbers": [],
        "web3_wallets": [],
        "external_accounts": [],
        "external_id": None,
        "password_enabled": True,
        "two_factor_enabled": False,
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "created_at": ms(created),
        "updated_at": ms(updated),
        "last_sign_in_at": ms(last_sign_in_at) if last_sign_in_at else None,
    }


def clerk_event(kind: str, data: dict[str, Any]) -> str:
    """The JSON body of a Clerk webhook delivery."""
    return json.dumps(
        {
            "data": data,
            "object": "event",
            "type": kind,
            "timestamp": ms(datetime.now(UTC)),
            "instance_id": "ins_2chatdeskTEST",
        }
    )


def session_data(user_id: str, created_at: datetime) -> dict[str, Any]:
    """A session object shaped like the `data` of Clerk's session.created event."""
    return {
        "id": "sess_2chatdesk",
        "object": "session",
        "user_id": user_id,
        "client_id": "client_2chatdesk",
        "status": "active",
        "created_at": ms(created_at),
        "updated_at": ms(created_at),
        "last_active_at": ms(created_at),
        "expire_at": ms(created_at + timedelta(days=7)),
        "abandon_at": ms(created_at + timedelta(days=30)),
    }
