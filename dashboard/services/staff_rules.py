"""The staff rules of SPEC §3 for account actions, in one place.

Every action on an account (deactivate, reactivate, role change, creating a staff account, and
any added later: give it a row in ACTIONS) asks `check` before it changes anything, and the
pages ask `refusal` to decide which controls to show, so a rule cannot hold in one place and
not in another. The rules:

- each action needs a role (ACTIONS), held by an active actor;
- nobody acts on their own account;
- below admin, only end users' accounts can be touched: staff accounts are the admins';
- an erased account is never reactivated (its Clerk id would refill the profile from the
  next token);
- an undo needs at least the rank of whoever did it: a moderator cannot reactivate an account
  an admin deactivated (or the system, which counts as an admin), whatever its role.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import ROLE_RANK, AuditLog, User
from .errors import Forbidden

# action -> the lowest role allowed to do it
ACTIONS = {
    "deactivate": "moderator",
    "reactivate": "moderator",
    "role": "admin",
    "create": "admin",
    "erase": "admin",
    "cleanup": "moderator",
}
VERBS = {
    "deactivate": "deactivate",
    "reactivate": "reactivate",
    "role": "change the role of",
    "create": "create",
    "erase": "erase",
    "cleanup": "clean up the messages of",
}
# Audit actions that an action undoes: who did them decides who may undo them.
UNDOES = {"reactivate": ("user.deactivate",)}


def _rank(role: str | None) -> int:
    return ROLE_RANK.get(role or "admin", ROLE_RANK["admin"])


def _last_doer_rank(action: str, target: User) -> int | None:
    """The rank of whoever last did what `action` undoes to `target` (None: nobody did)."""
    undone = UNDOES.get(action)
    if not undone:
        return None
    row = db.session.execute(
        sa.select(AuditLog.actor_id, AuditLog.details, User.role)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(
            AuditLog.target_type == "user",
            AuditLog.target_id == target.id,
            AuditLog.action.in_(undone),
        )
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    actor_id, details, current_role = row
    if actor_id is None:
        return ROLE_RANK["admin"]  # the system (Clerk, a command): an admin's decision
    return _rank((details or {}).get("actorRole") or current_role)


def refusal(
    actor: User, action: str, target: User | None = None, *, role: str | None = None
) -> tuple[str, str] | None:
    """(reason code, message) when `actor` may not do `action` (to `target`), else None.

    `role` is the role being given (a role change) or created with (a new account).
    """
    need = ACTIONS[action]
    verb = VERBS[action]
    if not actor.is_active or not actor.has_role(need):
        who = "admins" if need == "admin" else "moderators and admins"
        return "role", f"Only {who} can {verb} accounts."
    if action == "create" and role is not None and role != "user" and not actor.has_role("admin"):
        return "staff", "Only an admin can create a staff account."
    if target is None:
        return None
    if target.id == actor.id:
        return "self", f"You cannot {verb} your own account."
    if action == "reactivate" and target.erased_at is not None:
        return "erased", "An erased account stays deactivated."
    if target.role != "user" and not actor.has_role("admin"):
        return "staff", f"Only an admin can {verb} a staff account."
    doer = _last_doer_rank(action, target)
    if doer is not None and _rank(actor.role) < doer:
        return "rank", f"Only an admin can {verb} this account: an admin deactivated it."
    return None


def check(actor: User, action: str, target: User | None = None, *, role: str | None = None) -> None:
    """Raise Forbidden (details.reason says which rule) unless the rules allow the action."""
    refused = refusal(actor, action, target, role=role)
    if refused is not None:
        code, message = refused
        raise Forbidden(message, {"reason": code})


def allowed(actor: User, action: str, target: User | None = None) -> bool:
    """True when `actor` may do `action` to `target` (for showing or hiding a control)."""
    return refusal(actor, action, target) is None
