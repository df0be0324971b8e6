"""Demo data, from a handful of rows to millions, written with bulk inserts (COPY on PostgreSQL).

The text reads like support chat (see seed_text.py). The same `rng_seed` and `now` on an empty
database give the same rows, ids included: ids are UUIDv7 strings built from the rng. On a
database that already has messages the rng is salted with their count, so a second run adds
different rows instead of clashing.

Big loads (BULK_LOAD_ROWS messages or more) take the cost of keeping the tables consistent once,
at the end, instead of once per row; per-row upkeep is what made 10M messages non-linear:

- PostgreSQL: the indexes, primary keys, unique constraints and foreign keys of threads,
  participants, messages, mentions and attachments (and the foreign keys into them) are dropped
  for the load and re-created after it (sorted index builds, one validating join per foreign
  key). Kept, the (random-order) primary key and unique (user_id, client_id) index of messages
  outgrow shared_buffers around a few million rows and every COPYed row then costs random
  page reads, writes and full-page WAL images, and each row ran four foreign-key checks.
  Rows are COPYed from a second thread, so building the next chunk overlaps the server's work.
- SQLite: the FTS triggers and the secondary indexes of messages are dropped; rows carry their
  search key and tags, computed here; then the indexes are built and the FTS index rebuilt once.

The writers (and the column lists their rows follow) are in seed_writers.py; this module plans
the rows and builds them.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditLog, Message, Report, User, new_id, utcnow
from . import seed_text as text
from . import uploads
from .seed_writers import TABLES, PostgresWriter, Progress, Sink

BULK_LOAD_ROWS = 100_000
DEMO_PASSWORD = "chatdesk-demo"  # noqa: S105 - demo accounts only, printed by `make run`
DEMO_ACCOUNTS = (
    ("admin", "admin", "Ada", "Admin"),
    ("moderator", "moderator", "Mo", "Derator"),
    ("support", "support", "Sam", "Support"),
    ("alice", "user", "Alice", "Anders"),
    ("bob", "user", "Bob", "Berg"),
)

FIRST = (
    "Ana Ben Chloe Dev Elif Femi Gus Hana Ivan Jo Kai Lena Milo Nia Omar Pia Quinn Ravi Sara "
    "Tom Uma Vic Wen Xia Yuri Zoe Arjun Bea Carl Dana Eli Fay Gil Hugo Iris Jan Kim Leo Mae "
    "Noor"
).split()
LAST = (
    "Abe Baker Cruz Diaz Evans Fox Garcia Hill Ito Jones Khan Lopez Meyer Ng Ortiz Park Quist "
    "Rossi Singh Tan Uddin Vega Wong Xu Young Zhou Adler Brandt Costa Duarte"
).split()


@dataclass
class SeedResult:
    """What the seed wrote."""

    users: int = 0
    threads: int = 0
    messages: int = 0
    participants: int = 0
    reports: int = 0
    demo_logins: list[tuple[str, str, str]] = field(default_factory=list)


def _noop(_stage: str, _n: int) -> None:
    return None


def seed(
    *,
    users: int,
    threads: int,
    messages: int,
    upload_dir: str | None = None,
    rng_seed: int = 7,
    progress: Progress = _noop,
    days: int = 45,
    now: datetime | None = None,
    bulk: bool | None = None,
    workers: int | None = None,
) -> SeedResult:
    """Add demo users (including the demo logins), threads and messages to the database.

    `now` (default: the current time) ends the time span, so the same seed and `now` give the
    same rows. `bulk` forces the big-load path on or off (default: from BULK_LOAD_ROWS).
    `workers`: processes that write threads and messages in a big load on PostgreSQL (default:
    one per CPU, at most 4); each thread's rows come from its own rng, so the count of workers
    never changes what is written.
    """
    now = (now or utcnow()).replace(microsecond=0)
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0
    rng = random.Random(rng_seed if not existing else f"{rng_seed}/{existing}")
    make_id = _id_maker(rng)
    start = now - timedelta(days=days)
    now_ms, start_ms = _ms(now), _ms(start)
    result = SeedResult()

    demo = _ensure_demo_accounts(now - timedelta(days=days + 1))
    result.demo_logins = [(u, DEMO_PASSWORD, role) for u, role, _, _ in DEMO_ACCOUNTS]
    staff_ids = [u.id for u in demo if u.is_staff]
    end_user_ids = [u.id for u in demo if not u.is_staff]
    # user id -> (username, first name, email), for mentions and the text's slots.
    people = {u.id: (u.username, u.first_name or u.username, u.email or "") for u in demo}

    big = messages >= BULK_LOAD_ROWS if bulk is None else bulk
    sink = Sink(db.engine.dialect.name, bulk=big, progress=progress)
    user_ids = list(end_user_ids)
    taken = {u.lower() for u in db.session.scalars(sa.select(User.username))}
    day_ms = 86_400_000
    for i in range(users):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = f"{first}.{last}".lower()
        name, n = base, i
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        uid = make_id(start_ms - (users - i) * 1000)
        created = _ts(start_ms - rng.randint(0, 30 * day_ms))
        email = f"{name}@example.com"
        sink.add(
            "users",
            (
                uid,
                name,
                email,
                first,
                last,
                None,
                None,
                "user",
                True,
                1,
                created,
                created,
                None,
                None,
            ),
        )
        user_ids.append(uid)
        people[uid] = (name, first, email)
    sink.flush()
    result.users = users

    thread_plan = _plan_threads(rng, threads, messages)
    images = _image_files(upload_dir, rng, count=min(12, messages // 50))
    plan = _Plan(
        base=rng.getrandbits(64),
        counts=thread_plan,
        user_ids=user_ids,
        demo_users=end_user_ids,
        people=people,
        start_ms=start_ms,
        now_ms=now_ms,
        span_ms=days * day_ms - 3_600_000,
        images=images,
    )
    procs = _workers(workers) if big and sink.dialect == "postgresql" else 1
    with sink.bulk_load():
        if procs > 1 and len(thread_plan) >= procs:
            written = _write_in_processes(plan, procs, progress)
        else:
            _write_threads(plan, range(len(thread_plan)), sink)
            sink.flush()
            written = sink.written
    result.threads = written["threads"]
    result.messages = written["messages"]
    result.participants = written["participants"]
    db.session.commit()
    result.reports = _reports_and_moderation(rng, staff_ids, end_user_ids, now)
    db.session.commit()
    if images:
        # Thumbnails and width/height/thumbnail metadata, as a real upload gets them.
        uploads.fill_image_metadata(limit=len(images))
    sink.analyze()
    return result


def _ms(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp() * 1000)


_DAYS: dict[int, str] = {}
_EPOCH = datetime(1970, 1, 1)


def _ts(ms: int) -> str:
    """Unix ms in the text SQLAlchemy stores a naive DateTime as on SQLite (PostgreSQL reads it)."""
    day, rest = divmod(ms, 86_400_000)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{date} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}000"


def _id_maker(rng: random.Random) -> Callable[[int], str]:
    """new_id(at) with its random bits from `rng`: same layout, reproducible."""
    bits = rng.getrandbits

    def make(ms: int) -> str:
        value = ms << 80 | 0x7 << 76 | bits(12) << 64 | 0b10 << 62 | bits(62)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    return make


def _pick_members(
    rng: random.Random, user_ids: Sequence[str], demo_users: Sequence[str], i: int
) -> list[str]:
    """A thread's participants (creator first); the demo users share the first threads."""
    if i < 6 and len(demo_users) >= 2:
        return list(demo_users)
    size = rng.choice((2, 2, 2, 3, 3, 4, 5, 6))
    if len(user_ids) < 64:
        return rng.sample(list(user_ids), min(size, len(user_ids)))
    # dict, not set: keeps the draw order, so the result does not depend on PYTHONHASHSEED.
    n = len(user_ids)
    return list(dict.fromkeys(user_ids[int(rng.random() * n)] for _ in range(size)))


def _message_times(rng: random.Random, created_ms: int, now_ms: int, n: int) -> list[int]:
    """`n` increasing times (Unix ms) between the thread's creation and now."""
    span = max(1000, now_ms - created_ms - 1000)
    return sorted(created_ms + 1000 + int(rng.random() * span) for _ in range(n))


def _ensure_demo_accounts(created: datetime) -> list[User]:
    """The demo logins, created once with the shared demo password."""
    out = []
    pw_hash = None
    for username, role, first, last in DEMO_ACCOUNTS:
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username))
        if user is None:
            user = User(
                username=username,
                email=f"{username}@chatdesk.test",
                role=role,
                first_name=first,
                last_name=last,
                created_at=created,
                updated_at=created,
            )
            if pw_hash is None:
                user.set_password(DEMO_PASSWORD)
                pw_hash = user.password_hash
            user.password_hash = pw_hash
            db.session.add(user)
        out.append(user)
    db.session.commit()
    return out


def _plan_threads(rng: random.Random, threads: int, messages: int) -> list[int]:
    """How many messages each thread gets: a long tail, a few large threads."""
    if threads <= 0:
        return []
    weights = [rng.paretovariate(1.3) for _ in range(threads)]
    total = sum(weights)
    counts = [int(messages * w / total) for w in weights]
    short = messages - sum(counts)
    for i in range(short):
        counts[i % threads] += 1
    return counts


def _image_files(upload_dir: str | None, rng: random.Random, count: int) -> list[tuple[str, int]]:
    """A few small generated PNG files in UPLOAD_DIR for image attachments."""
    if not upload_dir or count <= 0:
        return []
    path = Path(upload_dir)
    path.mkdir(parents=True, exist_ok=True)
    out = []
    for _ in range(count):
        color = bytes(rng.randrange(256) for _ in range(3))
        data = _png(32, 32, color)
        name = new_id().replace("-", "")
        (path / name).write_bytes(data)
        out.append((name, len(data)))
    return out


def _png(width: int, height: int, rgb: bytes) -> bytes:
    """A solid-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + rgb * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _reports_and_moderation(
    rng: random.Random, staff: list[str], users: list[str], now: datetime
) -> int:
    """Open reports on a few messages, and a couple of hidden messages with their audit rows."""
    sample = list(db.session.scalars(sa.select(Message.id).order_by(Message.id.desc()).limit(400)))
    if not sample or not staff:
        return 0
    picked = rng.sample(sample, min(len(sample), 12))
    reasons = ("spam", "abusive language", "shares personal data", "off-topic advertising")
    reports = 0
    for m_id in picked[:8]:
        db.session.add(
            Report(
                message_id=m_id,
                reporter_id=rng.choice(users),
                reason=rng.choice(reasons),
                created_at=now - timedelta(minutes=rng.randint(1, 600)),
            )
        )
        reports += 1
    moderator = staff[1] if len(staff) > 1 else staff[0]
    for m_id in picked[8:10]:
        msg = db.session.get(Message, m_id)
        if msg is None:
            continue
        msg.hidden_at, msg.hidden_by_id, msg.hidden_reason = now, moderator, "spam"
        db.session.add(
            AuditLog(
                actor_id=moderator,
                action="message.hide",
                target_type="message",
                target_id=m_id,
                reason="spam",
                details={},
                created_at=now,
            )
        )
    return reports


@dataclass
class _Plan:
    """What every thread's rows are made from; thread `t` draws from Random(base + t)."""

    base: int
    counts: list[int]
    user_ids: list[str]
    demo_users: list[str]
    people: dict[str, tuple[str, str, str]]
    start_ms: int
    now_ms: int
    span_ms: int
    images: list[tuple[str, int]]


def _write_threads(plan: _Plan, indices: Iterable[int], sink: Sink) -> None:
    """The threads `indices` of the plan, with their messages, mentions, attachments, members."""
    people = plan.people
    general, n_general = text.GENERAL, len(text.GENERAL)
    voice: dict[str, Any] = {}  # the message being written: its author, members and rng

    def person(slot: str) -> str:
        """A per-message slot: the author's email, another member's username or first name."""
        author, members = voice["author"], voice["members"]
        if slot == "email":
            return people[author][2]
        others = [m for m in members if m != author] or members
        who = people[others[int(voice["rand"]() * len(others))]]
        return who[0] if slot == "user" else who[1]

    for t_index in indices:
        rng = random.Random(plan.base + t_index)
        rand = voice["rand"] = rng.random  # int(rand() * n): the hot loop's cheaper randrange(n)
        make_id = _id_maker(rng)
        created_ms = plan.start_ms + int(rand() * plan.span_ms)
        created = _ts(created_ms)
        t_id = make_id(created_ms)
        members = _pick_members(rng, plan.user_ids, plan.demo_users, t_index)
        topic = text.pick_topic(rng)
        facts = text.thread_facts(rng)
        author = voice["author"] = members[0]
        voice["members"] = members
        title = text.render(rng.choice(topic.titles), facts, person)
        times = _message_times(rng, created_ms, plan.now_ms, plan.counts[t_index])
        image = plan.images[t_index] if t_index < len(plan.images) else None
        msg_ids: list[str] = []
        replies, n_replies = topic.replies, len(topic.replies)
        for m_index, at_ms in enumerate(times):
            m_id = make_id(at_ms)
            at = _ts(at_ms)
            if m_index == 0:
                template = topic.openers[int(rand() * len(topic.openers))]
            else:
                author = voice["author"] = members[int(rand() * len(members))]
                template = (
                    replies[int(rand() * n_replies)]
                    if rand() < 0.65
                    else general[int(rand() * n_general)]
                )
            content = text.render(template, facts, person)
            parent = (
                msg_ids[-1 - int(rand() * min(20, len(msg_ids)))]
                if msg_ids and rand() < 0.08
                else None
            )
            if len(members) > 1 and rand() < 0.05:
                others = [m for m in members if m != author]
                target = others[int(rand() * len(others))]
                content = f"@{people[target][0]} {content}"
                sink.add("mentions", (m_id, target))
            sink.add(
                "messages",
                (
                    m_id,
                    f"seed-{m_id}",
                    content,
                    t_id,
                    author,
                    parent,
                    at,
                    at,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "{}",
                ),
            )
            if image is not None and m_index == 0:
                storage, size = image
                att_id = make_id(at_ms)
                sink.add(
                    "attachments",
                    (
                        att_id,
                        m_id,
                        author,
                        "image",
                        f"/api/v1/uploads/{att_id}",
                        "image/png",
                        size,
                        f"{storage}.png",
                        storage,
                        at,
                        "{}",
                    ),
                )
            elif rand() < 0.02:
                sink.add(
                    "attachments",
                    (
                        make_id(at_ms),
                        m_id,
                        author,
                        "link",
                        facts["url"],
                        None,
                        None,
                        None,
                        None,
                        at,
                        "{}",
                    ),
                )
            msg_ids.append(m_id)
        last_at = _ts(times[-1]) if times else None
        archived = rand() < 0.05
        sink.add(
            "threads",
            (
                t_id,
                None,
                title,
                members[0],
                created,
                last_at or created,
                last_at,
                last_at or created,
                len(times),
                archived,
                (last_at or created) if archived else None,
                "{}",
            ),
        )
        for p_index, member in enumerate(members):
            delivered = msg_ids[-1] if msg_ids else None
            # Most people have read everything; some lag a few messages behind.
            lag = 0 if rand() < 0.7 else 1 + int(rand() * 5)
            read = msg_ids[-1 - lag] if len(msg_ids) > lag else None
            joined = _ts(created_ms + p_index * 1000)
            sink.add("participants", (t_id, member, joined, delivered, read))
        if sink.pending("messages") >= sink.chunk:
            sink.flush()


def _workers(asked: int | None) -> int:
    if asked is not None:
        return max(1, asked)
    return max(1, min(4, os.cpu_count() or 1))


def _write_in_processes(plan: _Plan, procs: int, progress: Progress) -> dict[str, int]:
    """Fork `procs` writers, each COPYing every procs-th thread on its own connection.

    No connection crosses the fork (the pool is emptied first); a child ends with os._exit, as
    multiprocessing's fork start does, so it never touches the parent's sockets.
    """
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    db.session.commit()
    db.session.close()
    db.engine.dispose()
    mp = multiprocessing.get_context("fork")
    events: Any = mp.Queue()
    children = [
        mp.Process(target=_child, args=(plan, w, procs, url, events), daemon=True)
        for w in range(procs)
    ]
    for child in children:
        child.start()
    totals = dict.fromkeys(TABLES, 0)
    done = 0
    try:
        while done < procs:
            try:
                kind, value = events.get(timeout=5)
            except queue.Empty:
                if any(c.exitcode not in (None, 0) for c in children):
                    raise RuntimeError("a seed worker died") from None
                continue
            if kind == "error":
                raise RuntimeError(f"a seed worker failed: {value}")
            if kind == "done":
                done += 1
                for table, n in value.items():
                    totals[table] += n
            else:
                progress(kind, value)
    finally:
        for child in children:
            if child.is_alive() and done < procs:
                child.terminate()
            child.join()
    return totals


def _child(plan: _Plan, w: int, procs: int, url: str, events: Any) -> None:
    try:
        import psycopg2

        raw = psycopg2.connect(url)
        sink = Sink(
            "postgresql",
            bulk=True,
            progress=lambda table, n: events.put((table, n)),
            writer=PostgresWriter(raw),
        )
        _write_threads(plan, range(w, len(plan.counts), procs), sink)
        sink.flush()
        sink.writer.finish()
        raw.commit()
        raw.close()
        events.put(("done", sink.written))
    except BaseException as exc:  # reported to the parent, which raises it
        events.put(("error", f"{type(exc).__name__}: {exc}"))
