"""Users, for end users and staff alike: `accounts` writes, `queries` reads.

One user service for every audience (pypi/warehouse's model): the login page, Clerk tokens,
the CLI, the API's people finder and the dashboard's Users pages all call these functions.
Views, the API, auth, the CLI and other services import this package; it imports models,
`audit`, `presence`, `pagination`, `reasons` and `dashboard.events`.
"""

from .accounts import (
    EMAIL_RE,
    MIN_PASSWORD,
    USERNAME_RE,
    authenticate,
    change_role,
    create_user,
    dummy_password_hash,
    end_sessions,
    find_by_login,
    get_user,
    record_login,
    set_active,
    upsert_from_claims,
    validate_new_user,
)
from .queries import (
    PAGE_SIZE,
    UserDetail,
    UserFilters,
    find_users,
    list_users,
    online_users,
    recently_seen,
    user_detail,
)

__all__ = [
    "EMAIL_RE",
    "MIN_PASSWORD",
    "PAGE_SIZE",
    "USERNAME_RE",
    "UserDetail",
    "UserFilters",
    "authenticate",
    "change_role",
    "create_user",
    "dummy_password_hash",
    "end_sessions",
    "find_by_login",
    "find_users",
    "get_user",
    "list_users",
    "online_users",
    "recently_seen",
    "record_login",
    "set_active",
    "upsert_from_claims",
    "user_detail",
    "validate_new_user",
]
