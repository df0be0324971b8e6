"""SPEC §6 query parser: any input string becomes a backend-independent plan, never an error.

Free text follows web-search syntax: words, "a phrase", -exclude and `or` between groups of
words. Operators (`from:`, `in:`, `mentions:`, `has:`, `is:`, `before:`, `after:`, `on:`) can be
negated with a leading `-`. Problems (an unknown operator, a bad date) become warnings for the
user; the rest of the query still runs.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date

OPERATORS = ("from", "in", "mentions", "has", "is", "before", "after", "on")
HAS_VALUES = ("attachment", "image", "file", "link")
IS_VALUES = ("reply", "archived", "hidden")
MAX_QUERY_CHARS = 500
MAX_TERMS = 32

# One token: an optional '-', then `name:"quoted value"`, `name:value`, a "quoted phrase" (the
# closing quote may be missing) or a bare run of non-space characters.
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<op>[A-Za-z]+):(?:"(?P<qval>[^"]*)"?|(?P<val>[^\s"]*))'
    r'|"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))'
)
# Words as both backends' tokenizers see them: letters and digits (any script).
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """A word (one element) or a phrase (several words that must appear in that order).

    A token with punctuation inside (`kim.jones9164`, `A-1042`) is the phrase of its parts,
    as both indexes split it (docs/search.md, "Tokens"); `joins[i]` says that words i and
    i+1 were written joined by punctuation, with no space between them.
    """

    words: tuple[str, ...]
    joins: tuple[bool, ...] = ()

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    def joined_runs(self) -> list[tuple[str, ...]]:
        """The runs of two or more words written as one token (`a`, `1042` of `A-1042`)."""
        runs: list[tuple[str, ...]] = []
        start = 0
        for i in range(1, len(self.words) + 1):
            if i == len(self.words) or not (i - 1 < len(self.joins) and self.joins[i - 1]):
                if i - start > 1:
                    runs.append(self.words[start:i])
                start = i
        return runs


@dataclass(frozen=True)
class Filter:
    """An operator: `name` is the operator, `value` its raw argument, `negated` for `-name:`."""

    name: str
    value: str
    negated: bool = False
    day: date | None = None


@dataclass
class Plan:
    """What to look for, independent of the database.

    `any_of` is an OR of groups; each group is an AND of terms (a message must contain every
    term of at least one group). `exclude` terms must not appear anywhere. `filters` are ANDed.
    """

    any_of: list[list[Term]] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.any_of or self.exclude)

    @property
    def is_empty(self) -> bool:
        return not self.has_text and not self.filters

    def highlight_words(self) -> list[str]:
        return [w for group in self.any_of for t in group for w in t.words]


def _term(text: str) -> Term | None:
    found = list(WORD.finditer(text))[:MAX_TERMS]
    if not found:
        return None
    words = tuple(m.group().lower() for m in found)
    joins = tuple(
        not any(c.isspace() for c in text[a.end() : b.start()])
        for a, b in itertools.pairwise(found)
    )
    return Term(words, joins)


def _parse_day(value: str) -> date | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _shown(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def parse(query: str | None) -> Plan:
    """Turn a search box string into a Plan; problems become `plan.warnings`, never errors."""
    plan = Plan()
    text = (query or "").replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        plan.warnings.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
    group: list[Term] = []
    n_terms = 0
    for m in _TOKEN.finditer(text):
        negated = bool(m["neg"])
        op = (m["op"] or "").lower()
        if m["op"] is not None and op not in OPERATORS:
            # `http://x` or `12:30` are words, not operators; `foo:bar` with a name we do not
            # know is most likely a typo of an operator, so say so.
            raw = m.group(0)
            if re.fullmatch(r"[A-Za-z]+", m["op"]) and not raw.lower().startswith(("http", "ftp")):
                plan.warnings.append(
                    f"Unknown operator “{_shown(m['op'])}:”; searched for it as text. "
                    f"Operators: {', '.join(o + ':' for o in OPERATORS)}."
                )
            term = _term(raw)
        elif m["op"] is not None:
            value = m["qval"] if m["qval"] is not None else (m["val"] or "")
            _add_filter(plan, op, value.strip(), negated)
            continue
        elif m["phrase"] is not None:
            term = _term(m["phrase"])
        else:
            word = m["word"]
            if not negated and word.lower() == "or" and not m["neg"]:
                if group:
                    plan.any_of.append(group)
                    group = []
                continue
            term = _term(word)
        if term is None:
            continue
        n_terms += 1
        if n_terms > MAX_TERMS:
            if n_terms == MAX_TERMS + 1:
                plan.warnings.append(f"Only the first {MAX_TERMS} words were used.")
            continue
        if negated:
            if term not in plan.exclude:
                plan.exclude.append(term)
        elif term not in group:
            group.append(term)
    if group:
        plan.any_of.append(group)
    return plan


def _add_filter(plan: Plan, op: str, value: str, negated: bool) -> None:
    if not value:
        plan.warnings.append(f"“{op}:” needs a value, e.g. {_EXAMPLES[op]}; it was ignored.")
        return
    if op == "has":
        value = value.lower()
        if value not in HAS_VALUES:
            plan.warnings.append(
                f"“has:{_shown(value)}” is not known; use has:attachment, has:image, has:file "
                "or has:link. It was ignored."
            )
            return
    elif op == "is":
        value = value.lower()
        if value not in IS_VALUES:
            plan.warnings.append(
                f"“is:{_shown(value)}” is not known; use is:reply, is:archived or is:hidden. "
                "It was ignored."
            )
            return
    elif op in ("before", "after", "on"):
        day = _parse_day(value)
        if day is None:
            plan.warnings.append(
                f"“{op}:{_shown(value)}” is not a date; write it as YYYY-MM-DD (UTC), "
                f"e.g. {op}:2026-11-26. It was ignored."
            )
            return
        flt = Filter(op, value, negated, day)
        if flt not in plan.filters:
            plan.filters.append(flt)
        return
    flt = Filter(op, value, negated)
    if flt not in plan.filters:
        plan.filters.append(flt)


_EXAMPLES = {
    "from": "from:alice or from:me",
    "in": "in:general or in:<thread id>",
    "mentions": "mentions:me",
    "has": "has:attachment",
    "is": "is:reply",
    "before": "before:2026-11-26",
    "after": "after:2026-11-26",
    "on": "on:2026-11-26",
}
