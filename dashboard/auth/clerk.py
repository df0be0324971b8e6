"""Clerk session tokens: RS256 JWTs verified against CLERK_JWT_KEY or the instance's JWKS."""

from __future__ import annotations

from typing import Any

import jwt

from .jwks import JwksKeys, UnknownKey

LEEWAY_SECONDS = 5


class TokenError(Exception):
    """The token is missing, malformed, expired, or not for us; the message says which."""


def verify_token(
    token: str,
    *,
    public_key: str | None,
    issuer: str | None,
    authorized_parties: list[str],
    jwks: JwksKeys | None = None,
) -> dict[str, Any]:
    """The verified claims of a Clerk session token, or TokenError.

    Checks the RS256 signature (against `public_key`, or the `jwks` key named by the token's
    `kid`), `exp` and `nbf` (with a few seconds of clock leeway), `iss` when CLERK_ISSUER is
    set, and `azp` against CLERK_AUTHORIZED_PARTIES when it is set.
    """
    key: Any = public_key
    if not key and jwks is not None:
        try:
            key = jwks.key_for(jwt.get_unverified_header(token).get("kid"))
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        except UnknownKey as exc:
            raise TokenError(str(exc)) from None
    if not key:
        raise TokenError("token authentication is not configured")
    try:
        claims = jwt.decode(
            token,
            key,
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
