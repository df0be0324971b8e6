"""Clerk session tokens: RS256 JWTs verified against CLERK_JWT_KEY or the instance's JWKS."""

from __future__ import annotations

from typing import Any

import jwt

from ..payloads import limits
from ..payloads.strict_json import StrictJSONError, check_text
from .jwks import JwksKeys, UnknownKey

LEEWAY_SECONDS = 5

# The profile claims a user is made from, each with its column's length and what happens
# to a longer value: a name is cut to fit, an address is dropped (cut, it would name
# something else). A claim that is not clean text (NUL, a lone surrogate) is dropped.
PROFILE_CLAIMS = {
    "username": (limits.USERNAME_MAX, True),
    "email": (limits.EMAIL_MAX, False),
    "first_name": (limits.FIRST_NAME_MAX, True),
    "last_name": (limits.LAST_NAME_MAX, True),
    "image_url": (limits.IMAGE_URL_MAX, False),
}


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
    return clean_claims(claims)


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return check_text(value)
    except StrictJSONError:
        return None


def clean_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims with the profile fields made to fit their columns (SPEC §7's payload rules).

    The subject is the user's id: one that is not clean text or longer than the id column
    refuses the token. Profile claims are cut or dropped as PROFILE_CLAIMS says.
    """
    sub = _clean(claims.get("sub"))
    if not sub:
        raise TokenError("token has no subject")
    if len(sub) > limits.ID_MAX:
        raise TokenError("token subject is too long")
    cleaned = {**claims, "sub": sub}
    for key, (length, may_cut) in PROFILE_CLAIMS.items():
        if key not in claims:
            continue
        value = _clean(claims[key])
        if value is not None and len(value) > length:
            value = value[:length] if may_cut else None
        if value is None:
            cleaned.pop(key)
        else:
            cleaned[key] = value
    return cleaned
