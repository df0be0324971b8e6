"""The search backends, one module per database, and `backend_for(dialect)`.

`base.py` holds the interface and the strategies both databases share; `postgres.py`
(tsvector + GIN) and `sqlite.py` with `sqlite_walks.py` (FTS5) register themselves for their
dialect when imported here. Only the search package imports this one.
"""

from . import postgres, sqlite
from .base import Backend, backend_for, register

__all__ = ["Backend", "backend_for", "postgres", "register", "sqlite"]
