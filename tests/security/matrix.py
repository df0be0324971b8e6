"""The authorization matrix: every HTTP route and socket event x every kind of caller.

Each cell is the outcome a caller of that kind must get. `test_matrix.py` reads the routes from
`app.url_map` and the events from the namespaces' handlers, so a new route or event without a
row here fails the suite until someone decides who may use it.
"""

from __future__ import annotations

from collections.abc import Callable

from dashboard.models import ROLE_RANK

# Who calls: nobody; a deactivated account (its old cookie and a fresh token for it); an end user
# who is not in the thread; an end user in it (not its creator); and the three staff roles, none
# of them in the thread.
ROLES = ("anonymous", "deactivated", "outsider", "participant", "support", "moderator", "admin")
STAFF = ("support", "moderator", "admin")

# Outcomes.
OK = "ok"  # 2xx/3xx (not to the login page); an `{ok: true}` ack
LOGIN = "login"  # a page: 302 to /login; the API: 401 `unauthorized`
FORBIDDEN = "forbidden"  # 403 (page or JSON); an ack `forbidden`
NOT_FOUND = "not_found"  # 404: for a thread that is not yours, it does not exist
REFUSED = "refused"  # the login form says no (401); a socket connection is refused
BAD_REQUEST = "bad_request"  # 400: a signed delivery whose signature is missing
LOGGED_OUT = "logged_out"  # 302 to /login, and the caller is logged out afterwards
IGNORED = "ignored"  # a client-sent lifecycle or unknown event: no effect, socket unharmed

Row = dict[str, str]


def everyone(outcome: str = OK) -> Row:
    return dict.fromkeys(ROLES, outcome)


def signed_in() -> Row:
    """Anyone with a working account."""
    return {**everyone(), "anonymous": LOGIN, "deactivated": LOGIN}


def staff(min_role: str) -> Row:
    """A dashboard route for `min_role` and above."""
    row = signed_in()
    for role in ("outsider", "participant", *STAFF):
        rank = ROLE_RANK["user" if role in ("outsider", "participant") else role]
        row[role] = OK if rank >= ROLE_RANK[min_role] else FORBIDDEN
    return row


def member(participant: str = OK) -> Row:
    """A thread's own route: its participants only; everyone else is told it does not exist."""
    row = {**signed_in(), "outsider": NOT_FOUND, "participant": participant}
    for role in STAFF:
        row[role] = NOT_FOUND  # staff see threads on the dashboard, not through the chat API
    return row


# (endpoint, method) -> outcome for each role.
HTTP: dict[tuple[str, str], Row] = {
    ("main.index", "GET"): everyone(),
    ("ops.healthz", "GET"): everyone(),
    ("ops.readyz", "GET"): everyone(),
    ("static", "GET"): everyone(),
    ("auth.login", "GET"): everyone(),
    ("auth.login", "POST"): {**everyone(), "deactivated": REFUSED},
    ("auth.logout", "GET"): signed_in(),
    ("auth.logout", "POST"): everyone(LOGGED_OUT),
    ("chat.index", "GET"): signed_in(),
    # The dashboard (SPEC §3 and §4).
    ("dashboard.overview", "GET"): staff("support"),
    ("dashboard.overview_counts", "GET"): staff("support"),
    ("dashboard.threads", "GET"): staff("support"),
    ("dashboard.thread_detail", "GET"): staff("support"),
    ("dashboard.users", "GET"): staff("support"),
    ("dashboard.user_detail", "GET"): staff("support"),
    ("dashboard.presence", "GET"): staff("support"),
    ("dashboard.reports", "GET"): staff("support"),
    ("search.search", "GET"): staff("support"),
    ("dashboard.audit", "GET"): staff("moderator"),
    ("dashboard.report_resolve", "POST"): staff("moderator"),
    ("dashboard.watched_words_list", "GET"): staff("moderator"),
    ("dashboard.watched_word_add", "POST"): staff("moderator"),
    ("dashboard.watched_word_delete", "POST"): staff("moderator"),
    ("dashboard.user_cleanup", "POST"): staff("moderator"),
    ("dashboard.user_cleanup_undo", "POST"): staff("moderator"),
    ("dashboard.user_deactivate", "POST"): staff("moderator"),
    ("dashboard.user_reactivate", "POST"): staff("moderator"),
    ("dashboard.threads_bulk", "POST"): staff("moderator"),
    ("dashboard.thread_archive", "POST"): staff("moderator"),
    ("dashboard.thread_unarchive", "POST"): staff("moderator"),
    ("dashboard.message_hide", "POST"): staff("moderator"),
    ("dashboard.message_restore", "POST"): staff("moderator"),
    ("dashboard.thread_export", "POST"): staff("moderator"),
    ("dashboard.user_role", "POST"): staff("admin"),
    ("dashboard.user_create", "POST"): staff("admin"),
    ("dashboard.user_export_json", "POST"): staff("admin"),
    ("dashboard.user_erase", "POST"): staff("admin"),
    # Clerk's signed deliveries: the signature is the only credential, no cookie counts.
    ("webhooks.clerk", "POST"): everyone(BAD_REQUEST),
    # The JSON API (SPEC §5): one's own account and threads.
    ("api.openapi", "GET"): everyone(),
    ("api.me", "GET"): signed_in(),
    ("api.find_users", "GET"): signed_in(),
    ("api.list_threads", "GET"): signed_in(),
    ("api.create_thread", "POST"): signed_in(),
    ("api.search_messages", "GET"): signed_in(),
    ("api.get_presence", "GET"): signed_in(),
    ("api.upload", "POST"): signed_in(),
    ("api.get_thread", "GET"): member(),
    ("api.update_thread", "PATCH"): member(participant=FORBIDDEN),  # its creator only
    ("api.add_participants", "POST"): member(participant=FORBIDDEN),  # its creator only
    ("api.remove_participant", "DELETE"): member(),  # leaving the thread
    ("api.list_messages", "GET"): member(),
    ("api.send_message", "POST"): member(),
    ("api.mark_read", "POST"): member(),
    ("api.edit_message", "PATCH"): member(),  # the participant's own message
    ("api.delete_message", "DELETE"): member(),
    ("api.report_message", "POST"): member(),
    # Staff read every thread on the dashboard, so they see its files too (finding 4).
    ("api.get_upload", "GET"): {**member(), **dict.fromkeys(STAFF, OK)},
    ("api.get_upload_thumbnail", "GET"): {**member(), **dict.fromkeys(STAFF, OK)},
}


def chat_row(in_thread: str = OK, elsewhere: str = NOT_FOUND) -> Row:
    """A /chat event: connected end users and staff; thread events for its participants."""
    row = {**everyone(elsewhere), "anonymous": REFUSED, "deactivated": REFUSED}
    row["participant"] = in_thread
    return row


def chat_any() -> Row:
    return chat_row(OK, OK)


def live_row(outcome: str) -> Row:
    """A /live event: staff only (everyone else's connection is refused)."""
    return {**everyone(REFUSED), **dict.fromkeys(STAFF, outcome)}


LIFECYCLE = ("connect", "disconnect")
UNKNOWN = ("no:such-event", "presence:snapshot")  # made up; a server→client name sent back

# namespace -> client event name -> outcome for each role.
SOCKETS: dict[str, dict[str, Row]] = {
    "/chat": {
        "message:send": chat_row(),
        "message:edit": chat_row(),
        "message:delete": chat_row(),
        "messages:delivered": chat_row(),
        "messages:read": chat_row(),
        "typing:start": chat_row(),
        "typing:stop": chat_row(),
        "sync": chat_any(),
        "presence:query": chat_any(),
        **{name: chat_row(IGNORED, IGNORED) for name in (*LIFECYCLE, *UNKNOWN)},
    },
    "/live": {name: live_row(IGNORED) for name in (*LIFECYCLE, *UNKNOWN)},
}


def handler_name(event: str) -> str:
    """The namespace method Flask-SocketIO calls for a client event."""
    return "on_" + event.replace(":", "_")


def events_of(namespace_handler: object) -> set[str]:
    """The client events a namespace handles (its `on_…` methods), as handler names."""
    return {n for n in dir(namespace_handler) if n.startswith("on_")}


Check = Callable[..., None]
