"""Accounts: local sign-up, Clerk identities, logging in, and staff actions on an account.

The public and the staff paths share these functions (pypi/warehouse's one user service):
the CLI and the dashboard create accounts with `create_user`; deactivation and role changes
end the user's sessions and sockets. Staff writes are audited in their own transaction.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ... import events
from ...extensions import db
from ...models import ROLES, User, utcnow
from .. import audit, staff_rules
from ..errors import Conflict, NotFound, ValidationFailed
from ..reasons import clean_reason

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
MIN_PASSWORD = 8


def find_by_login(login: str) -> User | None:
    """The user whose username or email is `login` (case-insensitive)."""
    login = login.strip().lower()
    if not login:
        return None
    col = sa.func.lower(User.email) if "@" in login else sa.func.lower(User.username)
    return db.session.scalar(sa.select(User).where(col == login))


_dummy_hash: str | None = None


def dummy_password_hash() -> str:
    """A hash of a random password, made like the stored ones (same method, same cost).

    Checked when there is no stored hash to check, so an unknown name takes as long to refuse
    as a wrong password: login time does not tell which usernames exist.
    """
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def authenticate(login: str, password: str) -> User | None:
    """The active user matching `login` and `password`, or None (one answer for every failure).

    Every attempt checks exactly one password hash, a dummy one for an unknown name or an
    account without a local password, so all failures cost the same.
    """
    user = find_by_login(login)
    if user is None or not user.password_hash:
        check_password_hash(dummy_password_hash(), password or "")
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def record_login(user: User) -> None:
    """Stamp the user's last login and commit."""
    user.last_login_at = utcnow()
    db.session.commit()


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session and remember cookie stops loading at once.

    The session version lives in the database, so every process sees the bump on the user's
    next request; their open sockets are dropped too (`sessions_ended`).
    """
    user_id = user.id
    db.session.execute(
        sa.update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1, updated_at=utcnow())
    )
    db.session.commit()
    events.sessions_ended(user_id)


def validate_new_user(
    username: str, email: str | None, password: str | None, role: str
) -> dict[str, str]:
    """Field errors for a new local account (empty when it is valid)."""
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = (
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if email is not None and not EMAIL_RE.match(email):
        errors["email"] = "not an email address"
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = f"at least {MIN_PASSWORD} characters"
    if role not in ROLES:
        errors["role"] = f"one of {', '.join(ROLES)}"
    return errors


def create_user(
    username: str,
    *,
    email: str | None,
    password: str | None,
    role: str = "user",
    first_name: str | None = None,
    last_name: str | None = None,
    actor: User | None = None,
) -> User:
    """Create a local account; raises ValidationFailed or Conflict and writes nothing then."""
    if actor is not None:  # the command line (no actor) is the operator's own
        staff_rules.check(actor, "create", role=role)
    username = (username or "").strip()
    email = email.strip() if email else None
    errors = validate_new_user(username, email, password, role)
    if errors:
        raise ValidationFailed("The account is not valid.", {"fields": errors})
    taken = _taken(username, email)
    if taken:
        raise Conflict(f"That {taken} is already taken.", {"fields": {taken: "already taken"}})
    user = User(
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
        if actor is not None:
            audit.record(actor, "user.create", "user", user.id, details={"role": role})
        db.session.commit()
    except IntegrityError:
        # A concurrent insert won the race for the same username or email.
        db.session.rollback()
        raise Conflict("That username or email is already taken.") from None
    return user


def _taken(username: str, email: str | None) -> str | None:
    """'username' or 'email' when another user already has it, else None."""
    if _username_taken(username):
        return "username"
    if email and _email_taken(email):
        return "email"
    return None


def _username_taken(username: str, exclude_id: str | None = None) -> bool:
    """True when a user other than `exclude_id` has this username (any case)."""
    q = sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    if exclude_id:
        q = q.where(User.id != exclude_id)
    return db.session.scalar(q.limit(1)) is not None


def _email_taken(email: str, exclude_id: str | None = None) -> bool:
    """True when a user other than `exclude_id` has this email (any case)."""
    q = sa.select(User.id).where(sa.func.lower(User.email) == email.lower())
    if exclude_id:
        q = q.where(User.id != exclude_id)
    return db.session.scalar(q.limit(1)) is not None


def _derive_username(claims: dict[str, Any], user_id: str) -> str:
    """The username from the claims, else the email's local part, else the id; made valid."""
    raw = claims.get("username") or (claims.get("email") or "").split("@")[0] or user_id
    base = re.sub(r"[^A-Za-z0-9_.-]", "", str(raw))[:56].lstrip("._-") or "user"
    candidate, n = base, 1
    while _username_taken(candidate, exclude_id=user_id):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def upsert_from_claims(claims: dict[str, Any]) -> User:
    """Create or update the User a verified Clerk token names (`sub` is the id)."""
    user_id = str(claims["sub"])
    user = db.session.get(User, user_id)
    email = claims.get("email") or None
    if email and (not EMAIL_RE.match(email) or _email_taken(email, exclude_id=user_id)):
        email = None  # malformed, or owned by another account: never steal an address
    fields = {
        "first_name": claims.get("first_name") or None,
        "last_name": claims.get("last_name") or None,
        "image_url": claims.get("image_url") or None,
    }
    if user is None:
        user = User(id=user_id, username=_derive_username(claims, user_id), email=email, **fields)
        db.session.add(user)
    else:
        wanted = claims.get("username")
        if wanted and wanted != user.username:
            user.username = _derive_username(claims, user_id)
        if email:
            user.email = email
        for key, value in fields.items():
            if value is not None and getattr(user, key) != value:
                setattr(user, key, value)
    if user not in db.session.new and not db.session.is_modified(user):
        return user  # nothing changed: no write on every API call
    try:
        db.session.commit()
    except IntegrityError:
        # Another request created the same Clerk user first: use theirs.
        db.session.rollback()
        user = db.session.get(User, user_id)
        if user is None:
            raise
    return user


def get_user(user_id: str) -> User:
    """The user with this id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


# -- staff actions on an account ----------------------------------------------------------------


def _target(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def set_active(actor: User, user_id: str, active: bool, reason: str | None) -> User:
    """Deactivate (ending every session and socket) or reactivate a user; audited."""
    action = "reactivate" if active else "deactivate"
    reason = clean_reason(reason)
    user = _target(user_id)
    staff_rules.check(actor, action, user)
    if user.is_active == active:
        return user  # nothing to change: no audit row for a no-op
    user.is_active = active
    user.session_version += 1
    user.updated_at = utcnow()
    # The actor's role is kept: who may undo this depends on it (staff_rules).
    audit.record(
        actor, f"user.{action}", "user", user.id, reason=reason, details={"actorRole": actor.role}
    )
    db.session.commit()
    if not active:
        events.sessions_ended(user.id)
    return user


def change_role(actor: User, user_id: str, role: str, reason: str | None) -> User:
    """Give a user another role (admins only); their sessions end so the new role applies."""
    staff_rules.check(actor, "role")
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", {"fields": {"role": f"one of {', '.join(ROLES)}"}})
    user = _target(user_id)
    staff_rules.check(actor, "role", user, role=role)
    reason = clean_reason(reason)
    if user.role == role:
        return user
    old = user.role
    user.role = role
    user.session_version += 1
    user.updated_at = utcnow()
    audit.record(
        actor, "user.role", "user", user.id, reason=reason, details={"from": old, "to": role}
    )
    db.session.commit()
    events.sessions_ended(user.id)
    return user
