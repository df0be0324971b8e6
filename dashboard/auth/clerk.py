"""Clerk session tokens: RS256 JWTs verified offline against CLERK_JWT_KEY."""

from __future__ import annotations

from typing import Any

import jwt

LEEWAY_SECONDS = 5


class TokenError(Exception):
    """The token is missing, malformed, expired, or not for us; the message says which."""


def verify_token(
    token: str,
    *,
    public_key: str | None,
    issuer: str | None,
    authorized_parties: list[str],
) -> dict[str, Any]:
    """The verified claims of a Clerk session token, or TokenError.

    Checks the RS256 signature, `exp` and `nbf` (with a few seconds of clock leeway), `iss`
    when CLERK_ISSUER is set, and `azp` against CLERK_AUTHORIZED_PARTIES when it is set.
    """
    if not public_key:
        raise TokenError("token authentication is not configured")
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("token not yet valid") from None
    except jwt.InvalidIssuerError:
        raise TokenError("token issuer not accepted") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    azp = claims.get("azp")
    if authorized_parties and azp not in authorized_parties:
        raise TokenError("token authorized party not accepted")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenError("token has no subject")
    return claims
