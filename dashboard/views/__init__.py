"""HTML blueprints: the home page, the dashboard, the search page and the chat page.

A view validates a form or the query string, calls one service, and renders a page or, for
htmx, a partial (`htmx.py`: `is_partial`, `with_toast`); `filters.py` holds the template
filters. `dashboard/` is the operator dashboard, one route module per area.

May import what lies below it (services, serializers, forms, auth, models, extensions), not
the API or realtime. Nothing imports it but the app factory and `auth` (for `htmx`); models and
services never do (tests/test_layers.py).
"""
