"""Users: local accounts and Clerk identities, with their role and presence watermark."""

from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import Model
from .base import new_id, utcnow

ROLES = ("user", "support", "moderator", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
STAFF_ROLES = ("support", "moderator", "admin")


class User(UserMixin, Model):
    """A person who chats; staff roles also use the dashboard."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('user', 'support', 'moderator', 'admin')", name="role"),
        sa.CheckConstraint("length(username) BETWEEN 1 AND 64", name="username_length"),
        sa.Index("uq_users_username_lower", sa.text("lower(username)"), unique=True),
        sa.Index("uq_users_email_lower", sa.text("lower(email)"), unique=True),
        sa.Index("ix_users_role_username", "role", "username"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    last_name: Mapped[str | None] = mapped_column(sa.String(100))
    image_url: Mapped[str | None] = mapped_column(sa.String(2048))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16), default="user", server_default="user")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # Bumped on deactivation, role change and password change: old sessions stop loading.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Clerk's own updated_at for this user: a webhook carrying an older one is stale.
    clerk_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Set once the personal data is erased; the account stays as a neutral placeholder.
    erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    def set_password(self, password: str) -> None:
        """Store a salted hash of `password` (never the password)."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when `password` matches; false for accounts without a local password."""
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's session token: id, session version and login time (Unix seconds).

        A bump of the version (logout, deactivation, role or password change) ends every older
        session and remember cookie; the login time bounds how long one lasts. A user loaded
        from a token keeps that token (`session_token`), so the cookie is not re-stamped.
        """
        token = getattr(self, "session_token", None)
        return token or f"{self.id}|{self.session_version}|{int(time.time())}"

    def has_role(self, role: str) -> bool:
        """True when this user's role is `role` or above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def is_staff(self) -> bool:
        """Support, moderator or admin."""
        return self.role in STAFF_ROLES

    @property
    def display_name(self) -> str:
        """First and last name, or the username."""
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
