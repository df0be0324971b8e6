"""Message search (SPEC §6): the query parser, the two database backends, the search service."""

from .parser import Plan, parse
from .service import BadCursor, Hit, SearchResult, search

__all__ = ["BadCursor", "Hit", "Plan", "SearchResult", "parse", "search"]
