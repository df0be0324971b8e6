"""Watched-word matching: normalise text, check a regex rule, and match many rules at once.

Pure functions and one compiled `Matcher`; no database, no Flask (the bench times it
directly). Text and word/phrase rules are compared in NFKC + casefold form, so a full-width
"REFUND", "Refund" and "refund" are one word. Words and phrases match on word boundaries:
those made of word characters are looked up by token (a dict lookup per word of the
message, whatever the rule count); the others, and every regex, go into one combined
pattern per group: punctuated literals (without their boundaries), regexes by a literal
run every match must contain (`required_literal`), regexes without capitals (run without
IGNORECASE, as the text is casefolded) and the other regexes. Which rules matched is worked
out rule by rule only when a group's combined pattern hits.

Regexes are validated when saved (`check_regex`): a length cap, a compile check, and no
construct that can backtrack catastrophically (nested unbounded repeats, an unbounded repeat
over an alternation, backreferences), nor one that matches every message.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# The regex parser of Python 3.11+ (sre_parse is deprecated): a module, read dynamically.
sre_constants = importlib.import_module("re._constants")
sre_parse = importlib.import_module("re._parser")

PATTERN_MAX = 200
TOKEN_RE = re.compile(r"\w+")
FLAGS = re.IGNORECASE | re.UNICODE
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
if hasattr(sre_constants, "POSSESSIVE_REPEAT"):
    _REPEATS.add(sre_constants.POSSESSIVE_REPEAT)
_UNBOUNDED = 100  # a repeat allowing more than this many is treated as unbounded


def normalize(text: str) -> str:
    """The form text and rules are compared in: NFKC, then casefold."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class Rule:
    """One rule as the matcher needs it."""

    id: str
    kind: str  # word, phrase, regex
    pattern: str
    action: str  # flag, block


@dataclass(frozen=True)
class Hit:
    """A rule that matched, and the text it matched (in normalised form)."""

    rule: Rule
    text: str


class BadPattern(ValueError):
    """A pattern that cannot be saved; the message says why, for the form."""


def _walk(items: Any, inside_repeat: bool) -> None:
    arg: Any
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise BadPattern("Backreferences are not allowed.")
        if op in _REPEATS:
            hi, sub = arg[1], arg[2]
            unbounded = hi > _UNBOUNDED
            if inside_repeat and hi > 1:
                raise BadPattern("Nested repeats such as (a+)+ are not allowed: they can hang.")
            if unbounded and _has_branch(sub):
                raise BadPattern("A repeated alternation such as (a|b)* is not allowed.")
            _walk(sub, inside_repeat or unbounded)
        elif op == sre_constants.SUBPATTERN:
            _walk(arg[-1], inside_repeat)
        elif op == sre_constants.BRANCH:
            for alt in arg[1]:
                _walk(alt, inside_repeat)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(arg[1], inside_repeat)
        elif hasattr(sre_constants, "ATOMIC_GROUP") and op == sre_constants.ATOMIC_GROUP:
            _walk(arg, inside_repeat)


def _has_branch(items: Any) -> bool:
    arg: Any
    for op, arg in items:
        if op == sre_constants.BRANCH:
            return True
        if op == sre_constants.SUBPATTERN and _has_branch(arg[-1]):
            return True
    return False


def check_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex, or BadPattern saying what is wrong with it."""
    if not pattern or len(pattern) > PATTERN_MAX:
        raise BadPattern(f"A pattern is 1 to {PATTERN_MAX} characters.")
    try:
        compiled = re.compile(pattern, FLAGS)
        # It must also stand inside the combined pattern (no global inline flags, no names).
        re.compile(f"(?:{pattern})|(?:{pattern})", FLAGS)
    except re.error as exc:
        raise BadPattern(f"Not a valid regular expression: {exc.msg}.") from None
    except (RecursionError, OverflowError):
        raise BadPattern("The regular expression is too complex.") from None
    if compiled.groupindex:
        raise BadPattern("Named groups are not allowed; use (?:…) or (…).")
    _walk(sre_parse.parse(pattern, FLAGS), False)
    if compiled.search("") is not None:
        raise BadPattern("The regular expression matches an empty message: every message.")
    return compiled


def literal_regex(normalized: str) -> str:
    """A word or phrase as a regex on word boundaries (any run of spaces between words)."""
    body = r"\s+".join(re.escape(part) for part in normalized.split())
    head = r"(?<!\w)" if re.match(r"\w", normalized.strip()) else ""
    tail = r"(?!\w)" if re.search(r"\w$", normalized.strip()) else ""
    return f"{head}{body}{tail}"


def required_literal(pattern: str, flags: int) -> str | None:
    """The longest run of plain characters every match of `pattern` contains (casefolded, as
    the text is), if it has one of 3 or more: a cheap prefilter for the regex."""
    try:
        items = list(sre_parse.parse(pattern, flags))
    except (re.error, RecursionError):
        return None
    if any(op == sre_constants.BRANCH for op, _ in items):
        return None  # a top-level alternation: no character run is required
    best, run = "", ""
    for op, arg in items:
        if op == sre_constants.LITERAL:
            run += chr(arg)
            best = max(best, run, key=len)
        else:
            run = ""
    best = best.casefold() if flags & re.IGNORECASE else best
    return best if len(best) >= 3 else None


def tokens_of(normalized: str) -> tuple[str, ...] | None:
    """The words of a rule when it is only words and spaces (matched by token), else None."""
    parts = tuple(normalized.split())
    if parts and all(TOKEN_RE.fullmatch(p) for p in parts):
        return parts
    return None


@dataclass
class _Group:
    """Rules searched through one combined pattern, then checked one by one on a hit.

    `prefilter` matches wherever any rule might (a superset: literal rules drop their word
    boundaries there, which keeps the regex engine's fast first-character scan); only when it
    hits are the rules' own exact patterns tried.
    """

    prefilter: re.Pattern[str]
    rules: list[tuple[re.Pattern[str], Rule]]

    def hits(self, norm: str, into: dict[str, Hit]) -> None:
        if self.prefilter.search(norm) is None:
            return
        for compiled, rule in self.rules:
            if rule.id not in into and (found := compiled.search(norm)) is not None:
                into[rule.id] = Hit(rule, found.group())


@dataclass
class Matcher:
    """All rules compiled once; `match` finds the rules a text hits."""

    words: dict[str, list[Rule]] = field(default_factory=dict)
    phrases: dict[str, list[tuple[tuple[str, ...], Rule]]] = field(default_factory=dict)
    groups: list[_Group] = field(default_factory=list)
    size: int = 0

    @classmethod
    def build(cls, rules: Iterable[Rule]) -> Matcher:
        """Compile `rules` (already validated when saved; a broken one is skipped)."""
        m = cls()
        literal: list[tuple[str, re.Pattern[str], Rule]] = []
        anchored: list[tuple[str, re.Pattern[str], Rule]] = []
        lower: list[tuple[str, re.Pattern[str], Rule]] = []
        regex: list[tuple[str, re.Pattern[str], Rule]] = []
        for rule in rules:
            if rule.kind == "regex":
                # The text is casefolded, so a pattern without capitals (no \S, no [A-Z]) needs
                # no IGNORECASE, which slows a combined pattern several times over.
                caseless = not any(ch.isupper() for ch in rule.pattern)
                flags = 0 if caseless else FLAGS
                try:
                    compiled = re.compile(rule.pattern, flags)
                except re.error:
                    continue
                must = required_literal(rule.pattern, flags)
                if must is not None:  # found by its literal first, whatever else it has
                    anchored.append((re.escape(must), compiled, rule))
                else:
                    src = f"(?:{rule.pattern})"
                    (lower if caseless else regex).append((src, compiled, rule))
            else:
                norm = normalize(rule.pattern)
                toks = tokens_of(norm)
                if toks is not None and len(toks) == 1:
                    m.words.setdefault(toks[0], []).append(rule)
                elif toks is not None:
                    m.phrases.setdefault(toks[0], []).append((toks, rule))
                elif norm.strip():
                    # Text is normalised (casefolded) already: no IGNORECASE, which is slow.
                    body = r"\s+".join(re.escape(part) for part in norm.split())
                    literal.append((body, re.compile(literal_regex(norm)), rule))
                else:
                    continue
            m.size += 1
        for group, flags in ((literal, 0), (anchored, 0), (lower, 0), (regex, FLAGS)):
            if group:
                m.groups.append(
                    _Group(
                        re.compile("|".join(src for src, _, _ in group), flags),
                        [(c, r) for _, c, r in group],
                    )
                )
        return m

    def __bool__(self) -> bool:
        return self.size > 0

    def match(self, text: str) -> list[Hit]:
        """Every rule `text` hits (once each), in no particular order."""
        if not self.size or not text:
            return []
        norm = normalize(text)
        hits: dict[str, Hit] = {}
        if self.words or self.phrases:
            tokens = TOKEN_RE.findall(norm)
            words, phrases = self.words, self.phrases
            for i, tok in enumerate(tokens):
                if tok in words:
                    for rule in words[tok]:
                        hits.setdefault(rule.id, Hit(rule, tok))
                if tok in phrases:
                    for toks, rule in phrases[tok]:
                        if rule.id not in hits and tuple(tokens[i : i + len(toks)]) == toks:
                            hits[rule.id] = Hit(rule, " ".join(toks))
        for group in self.groups:
            group.hits(norm, hits)
        return list(hits.values())
