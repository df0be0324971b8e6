"""Threads, for end users and staff alike: `queries` reads, `commands` changes and announces.

Staff and end users call the same functions with different arguments (as pypi/warehouse's
admin views use the same user service as its public ones): an end user's calls name the
member whose threads they are; staff calls name filters over every thread. Views, the API,
sockets and other services import this package; it imports models, serializers, `audit`,
`pagination`, `reasons` and `dashboard.events`.
"""

from .commands import (
    MAX_BULK,
    add_participants,
    archive_thread,
    create_thread,
    remove_participant,
    set_archived,
    update_thread,
)
from .queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    STATES,
    MessagePage,
    ThreadFilters,
    ThreadPage,
    ThreadRow,
    browse_threads,
    co_participant_ids,
    get_thread,
    list_threads,
    participant_ids,
    single_message,
    thread_ids_for,
    thread_messages,
    thread_payload,
    thread_row,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_BULK",
    "MAX_PAGE_SIZE",
    "SORTS",
    "STATES",
    "MessagePage",
    "ThreadFilters",
    "ThreadPage",
    "ThreadRow",
    "add_participants",
    "archive_thread",
    "browse_threads",
    "co_participant_ids",
    "create_thread",
    "get_thread",
    "list_threads",
    "participant_ids",
    "remove_participant",
    "set_archived",
    "single_message",
    "thread_ids_for",
    "thread_messages",
    "thread_payload",
    "thread_row",
    "update_thread",
]
