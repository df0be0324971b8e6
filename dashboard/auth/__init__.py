"""Login, logout, Clerk tokens and role checks."""

from .decorators import role_required, staff_required
from .views import bp

__all__ = ["bp", "role_required", "staff_required"]
