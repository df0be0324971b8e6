"""Demo data, from a handful of rows to millions, written with bulk inserts (COPY on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import random
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    AuditLog,
    Message,
    Report,
    User,
    new_id,
    utcnow,
)

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
WORDS = (
    "refund order invoice shipping delivery account password login error payment card update "
    "please thanks help issue problem ticket status today tomorrow week price plan upgrade "
    "cancel subscription billing address email phone support team customer question answer "
    "working broken fixed release deploy server database search report export import file "
    "image link meeting schedule call review feedback design mobile app browser crash slow "
    "fast sync notification settings profile photo upload download backup restore migrate "
    "invite share"
).split()
OPENERS = (
    "Hi",
    "Hello",
    "Hey",
    "Quick question:",
    "Update:",
    "FYI",
    "Thanks!",
    "Ok,",
    "So",
    "Also",
)
THREAD_TOPICS = (
    "Refund request",
    "Shipping delay",
    "Login trouble",
    "Billing question",
    "Feature idea",
    "Bug report",
    "Account update",
    "Weekly sync",
    "Release planning",
    "Onboarding",
    "Invoice copy",
    "Password reset",
    "Mobile app crash",
    "Export to CSV",
    "Search is slow",
)


@dataclass
class SeedResult:
    """What the seed wrote."""

    users: int = 0
    threads: int = 0
    messages: int = 0
    participants: int = 0
    reports: int = 0
    demo_logins: list[tuple[str, str, str]] = field(default_factory=list)


Progress = Callable[[str, int], None]


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
) -> SeedResult:
    """Add demo users (including the demo logins), threads and messages to the database."""
    rng = random.Random(rng_seed)
    now = utcnow().replace(microsecond=0)
    start = now - timedelta(days=days)
    writer = _writer_for(db.engine.dialect.name)
    result = SeedResult()

    demo = _ensure_demo_accounts(now - timedelta(days=days + 1))
    result.demo_logins = [(u, DEMO_PASSWORD, role) for u, role, _, _ in DEMO_ACCOUNTS]
    staff_ids = [u.id for u in demo if u.is_staff]
    end_user_ids = [u.id for u in demo if not u.is_staff]

    user_ids = list(end_user_ids)
    usernames = {u.id: u.username for u in demo}
    rows = []
    taken = {u.username.lower() for u in db.session.scalars(sa.select(User))}
    for i in range(users):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = f"{first}.{last}".lower()
        name, n = base, i
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        uid = new_id(start - timedelta(seconds=users - i))
        created = start - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        rows.append(
            (
                uid,
                name,
                f"{name}@example.com",
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
            )
        )
        user_ids.append(uid)
        usernames[uid] = name
    writer.write("users", USER_COLS, rows, progress=lambda n: progress("users", n))
    result.users = len(rows)
    db.session.commit()

    thread_plan = _plan_threads(rng, threads, messages)
    attach_budget = _image_files(upload_dir, rng, count=min(12, messages // 50))
    participants_rows: list[tuple[Any, ...]] = []
    # Rebuilding the message indexes once beats maintaining them row by row on big loads.
    with writer.bulk_load("messages") if messages >= BULK_LOAD_ROWS else _Null():
        thread_rows: list[tuple[Any, ...]] = []
        message_rows: list[tuple[Any, ...]] = []
        mention_rows: list[tuple[Any, ...]] = []
        attach_rows: list[tuple[Any, ...]] = []
        for t_index, msg_count in enumerate(thread_plan):
            created = start + timedelta(seconds=rng.randint(0, days * 86400 - 3600))
            t_id = new_id(created)
            members = _pick_members(rng, user_ids, end_user_ids, t_index)
            creator = members[0]
            times = _message_times(rng, created, now, msg_count)
            msg_ids: list[str] = []
            for m_index, at in enumerate(times):
                m_id = new_id(at)
                author = rng.choice(members)
                parent = rng.choice(msg_ids[-20:]) if msg_ids and rng.random() < 0.08 else None
                words = " ".join(rng.choices(WORDS, k=rng.randint(3, 18)))
                content = f"{rng.choice(OPENERS)} {words}."
                if len(members) > 1 and rng.random() < 0.05:
                    target = rng.choice([m for m in members if m != author])
                    content = f"@{usernames[target]} {content}"
                    mention_rows.append((m_id, target))
                message_rows.append(
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
                    )
                )
                roll = rng.random()
                if roll < 0.02:
                    url = f"https://example.com/docs/{rng.choice(WORDS)}-{m_index}"
                    attach_rows.append(
                        (new_id(at), m_id, author, "link", url, None, None, None, None, at, "{}")
                    )
                elif roll < 0.021 and attach_budget:
                    storage, size = attach_budget.pop()
                    att_id = new_id(at)
                    attach_rows.append(
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
                        )
                    )
                msg_ids.append(m_id)
            last_at = times[-1] if times else None
            archived = rng.random() < 0.05
            thread_rows.append(
                (
                    t_id,
                    None,
                    f"{rng.choice(THREAD_TOPICS)} #{t_index + 1}",
                    creator,
                    created,
                    last_at or created,
                    last_at,
                    last_at or created,
                    len(times),
                    archived,
                    (last_at or created) if archived else None,
                    "{}",
                )
            )
            for p_index, member in enumerate(members):
                delivered = msg_ids[-1] if msg_ids else None
                # Most people have read everything; some lag a few messages behind.
                lag = 0 if rng.random() < 0.7 else rng.randint(1, 5)
                read = msg_ids[-1 - lag] if len(msg_ids) > lag else None
                participants_rows.append(
                    (t_id, member, created + timedelta(seconds=p_index), delivered, read)
                )
            if len(message_rows) >= writer.chunk or t_index == len(thread_plan) - 1:
                writer.write("threads", THREAD_COLS, thread_rows)
                writer.write(
                    "messages",
                    MESSAGE_COLS,
                    message_rows,
                    progress=lambda n: progress("messages", n),
                )
                writer.write("mentions", MENTION_COLS, mention_rows)
                writer.write("attachments", ATTACHMENT_COLS, attach_rows)
                writer.write("participants", PARTICIPANT_COLS, participants_rows)
                progress("threads", len(thread_rows))
                result.threads += len(thread_rows)
                result.messages += len(message_rows)
                result.participants += len(participants_rows)
                thread_rows, message_rows, mention_rows, attach_rows = [], [], [], []
                participants_rows = []
    db.session.commit()
    result.reports = _reports_and_moderation(rng, staff_ids, end_user_ids, now)
    db.session.commit()
    writer.analyze()
    return result


USER_COLS = (
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "image_url",
    "password_hash",
    "role",
    "is_active",
    "session_version",
    "created_at",
    "updated_at",
    "last_login_at",
    "last_seen_at",
)
THREAD_COLS = (
    "id",
    "name",
    "title",
    "creator_id",
    "created_at",
    "updated_at",
    "last_message_at",
    "last_activity_at",
    "message_count",
    "is_archived",
    "archived_at",
    "metadata",
)
MESSAGE_COLS = (
    "id",
    "client_id",
    "content",
    "thread_id",
    "user_id",
    "parent_id",
    "created_at",
    "updated_at",
    "edited_at",
    "deleted_at",
    "hidden_at",
    "hidden_by_id",
    "hidden_reason",
    "metadata",
)
MENTION_COLS = ("message_id", "user_id")
ATTACHMENT_COLS = (
    "id",
    "message_id",
    "uploader_id",
    "type",
    "url",
    "mime_type",
    "size",
    "original_name",
    "storage_name",
    "created_at",
    "metadata",
)
PARTICIPANT_COLS = ("thread_id", "user_id", "joined_at", "delivered_through", "read_through")


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


def _pick_members(
    rng: random.Random, user_ids: Sequence[str], demo_users: Sequence[str], i: int
) -> list[str]:
    """A thread's participants (creator first); the demo users share the first threads."""
    if i < 6 and len(demo_users) >= 2:
        return list(demo_users)
    size = rng.choice((2, 2, 2, 3, 3, 4, 5, 6))
    members = (
        rng.sample(list(user_ids), min(size, len(user_ids)))
        if len(user_ids) < 64
        else list({rng.choice(user_ids) for _ in range(size)})
    )
    return members


def _message_times(rng: random.Random, created: datetime, now: datetime, n: int) -> list[datetime]:
    """`n` increasing times between the thread's creation and now."""
    span = max(1.0, (now - created).total_seconds() - 1)
    offsets = sorted(rng.uniform(1, span) for _ in range(n))
    return [created + timedelta(seconds=o) for o in offsets]


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


class _Writer:
    """Bulk row writer for one dialect."""

    chunk = 20_000

    def write(
        self,
        table: str,
        cols: Sequence[str],
        rows: list[tuple[Any, ...]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        raise NotImplementedError

    def bulk_load(self, table: str) -> Any:
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError


class _SQLiteWriter(_Writer):
    """executemany in large transactions."""

    def write(
        self,
        table: str,
        cols: Sequence[str],
        rows: list[tuple[Any, ...]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if not rows:
            return
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        conn = db.session.connection().connection.driver_connection
        assert conn is not None  # a live pooled connection always has its driver connection
        conn.executemany(sql, [_sqlite_row(r) for r in rows])
        db.session.commit()
        if progress:
            progress(len(rows))

    def bulk_load(self, table: str) -> _Null:
        return _Null()

    def analyze(self) -> None:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


class _PostgresWriter(_Writer):
    """COPY … FROM STDIN in CSV; big loads drop the table's secondary indexes and rebuild them."""

    chunk = 50_000

    def write(
        self,
        table: str,
        cols: Sequence[str],
        rows: list[tuple[Any, ...]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if not rows:
            return
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["\\N" if v is None else v for v in r])
        buf.seek(0)
        raw = db.session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.copy_expert(
                f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf
            )
        db.session.commit()
        if progress:
            progress(len(rows))

    def bulk_load(self, table: str) -> _PostgresBulkLoad:
        return _PostgresBulkLoad(table)

    def analyze(self) -> None:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


class _PostgresBulkLoad:
    """Drop a table's secondary (non-constraint) indexes for the load; recreate them after."""

    def __init__(self, table: str):
        self.table = table
        self.defs: list[tuple[str, str]] = []

    def __enter__(self) -> _PostgresBulkLoad:
        self.defs = [
            (name, ddl)
            for name, ddl in db.session.execute(
                sa.text(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t "
                    "AND i.schemaname = current_schema() "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conname = i.indexname)"
                ),
                {"t": self.table},
            )
        ]
        for name, _ in self.defs:
            db.session.execute(sa.text(f'DROP INDEX "{name}"'))
        db.session.commit()
        return self

    def __exit__(self, *exc: object) -> None:
        db.session.rollback()
        db.session.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        for _, ddl in self.defs:
            db.session.execute(sa.text(ddl))
        db.session.commit()


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _sqlite_row(row: Iterable[Any]) -> tuple[Any, ...]:
    # SQLAlchemy's SQLite DateTime format, so stored times compare as strings.
    return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row)


def _writer_for(dialect: str) -> _Writer:
    return _PostgresWriter() if dialect == "postgresql" else _SQLiteWriter()
