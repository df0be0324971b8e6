"""Who the caller is: login and logout pages, Flask-Login loaders, Clerk tokens, role checks.

`views.py` is the login blueprint, `loaders.py` finds the user of a session cookie or a bearer
token, `clerk.py` verifies Clerk session tokens offline, `decorators.py` has `role_required`
and `staff_required` for views, the API and sockets alike.

May import: models, services (the users service), forms, extensions, `views.htmx`. Imported
by the views, the API and realtime for their access checks.
"""

from .decorators import role_required, staff_required
from .views import bp

__all__ = ["bp", "role_required", "staff_required"]
