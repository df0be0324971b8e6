"""`flask --app wsgi chatdesk …` commands: accounts, demo data, search index, data lifecycle."""

from __future__ import annotations

import io
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import events
from .models import ROLES, User
from .services import seed as seed_service
from .services import users as users_service
from .services.errors import ServiceError

chatdesk = AppGroup("chatdesk", help="Chatdesk administration commands.")


@chatdesk.command("create-user")
@click.argument("username")
@click.option("--email", default=None, help="Email address (unique).")
@click.option("--password", default=None, help="Password; prompted for when left out.")
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
def create_user_command(
    username: str,
    email: str | None,
    password: str | None,
    role: str,
    first_name: str | None,
    last_name: str | None,
) -> None:
    """Create a local account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users_service.create_user(
            username,
            email=email,
            password=password,
            role=role,
            first_name=first_name,
            last_name=last_name,
        )
    except ServiceError as exc:
        fields = exc.details.get("fields", {})
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        raise click.ClickException(f"{exc.message} {detail}".strip()) from None
    click.echo(f"Created {user.role} {user.username} ({user.id}).")


@chatdesk.command("seed")
@click.option("--users", type=click.IntRange(0, 10_000_000), default=50, show_default=True)
@click.option("--threads", type=click.IntRange(0, 10_000_000), default=120, show_default=True)
@click.option("--messages", type=click.IntRange(0, 100_000_000), default=2_000, show_default=True)
@click.option("--seed", "rng_seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Writer processes for big PostgreSQL loads (default: one per CPU, at most 4).",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no list of the demo logins.")
def seed_command(
    users: int, threads: int, messages: int, rng_seed: int, workers: int | None, quiet: bool
) -> None:
    """Add demo data: the demo logins, users, threads, messages, reports."""
    if messages and not threads:
        raise click.BadParameter("messages need at least one thread", param_hint="--threads")
    started = time.perf_counter()
    total = users + messages
    with click.progressbar(
        length=total, label="Seeding", show_pos=True, file=None if not quiet else _Devnull()
    ) as bar:

        def progress(stage: str, n: int) -> None:
            if stage in ("users", "messages"):
                bar.update(n)

        result = seed_service.seed(
            users=users,
            threads=threads,
            messages=messages,
            upload_dir=current_app.config["UPLOAD_DIR"],
            rng_seed=rng_seed,
            progress=progress,
            workers=workers,
        )
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {result.users} users, {result.threads} threads, {result.messages} messages, "
        f"{result.participants} participants, {result.reports} reports in {elapsed:.1f} s."
    )
    if quiet:  # `make run` prints the logins itself, once, whether it seeded or not
        return
    click.echo(f"Demo logins (password for each: {seed_service.DEMO_PASSWORD}):")
    for username, _pw, role in result.demo_logins:
        click.echo(f"  {username:<10} {role}")


class _Devnull(io.StringIO):
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        return None


@chatdesk.command("purge-uploads")
@click.option(
    "--older-than-hours",
    type=click.IntRange(1, 24 * 3650),
    default=None,
    help="Grace period; default UPLOAD_GRACE_HOURS (24).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
def purge_uploads_command(older_than_hours: int | None, dry_run: bool) -> None:
    """Remove uploads never attached to a message after a grace period (rows and files)."""
    from datetime import timedelta

    from .services import uploads as uploads_service

    hours = older_than_hours or current_app.config["UPLOAD_GRACE_HOURS"]
    count, size = uploads_service.purge_unattached(timedelta(hours=hours), dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {count} unattached upload(s), {size} bytes, older than {hours} h.")


def init_app(app: Flask) -> None:
    """Add the `chatdesk` command group."""
    app.cli.add_command(chatdesk)


@chatdesk.command("reindex")
@click.option("--quiet", is_flag=True, help="No progress bar and no list of the demo logins.")
def reindex_command(quiet: bool) -> None:
    """Rebuild the message search index."""
    from .services.search import maintenance

    started = time.perf_counter()
    total = maintenance.message_count()
    with click.progressbar(
        length=total, label="Reindexing", show_pos=True, file=None if not quiet else _Devnull()
    ) as bar:
        try:
            what = maintenance.reindex(progress=bar.update)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{what}: {total} messages in {time.perf_counter() - started:.1f} s.")


@chatdesk.command("search-scopes")
def search_scopes_command() -> None:
    """SQLite: give authors and threads grown large their own search index (run from cron)."""
    from .services.search import maintenance

    started = time.perf_counter()
    n = maintenance.promote_scopes()
    click.echo(f"Scope index: {n} messages indexed in {time.perf_counter() - started:.1f} s.")


def _user_or_fail(key: str) -> User:
    from .services.lifecycle import erasure

    try:
        return erasure.find_user(key)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} ({key})") from None


@chatdesk.command("export-user")
@click.argument("user")
def export_user_command(user: str) -> None:
    """Write one user's data as JSON to stdout (USER: id, username or email)."""
    from .services.lifecycle import user_export

    target = _user_or_fail(user)
    for chunk in user_export.start_user_export(target, actor=None, via="cli"):
        click.echo(chunk, nl=False)


@chatdesk.command("erase-user")
@click.argument("user")
@click.option("--reason", required=True, help="Why (goes to the audit log).")
def erase_user_command(user: str, reason: str) -> None:
    """Erase one user's personal data and files (audited; run again to resume)."""
    from .services.lifecycle import erasure

    target = _user_or_fail(user)
    started = time.perf_counter()
    try:
        result = erasure.erase_user(target.id, actor=None, reason=reason, via="cli")
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if result.profile:
        events.sessions_ended(result.user_id)  # through Redis to every process
    elapsed = time.perf_counter() - started
    if not result.changed:
        click.echo(f"User {result.user_id} was already erased: nothing changed.")
        return
    click.echo(
        f"Erased user {result.user_id}: {result.messages} messages blanked, "
        f"{result.attachments} attachments and {result.files} files removed, "
        f"{result.reports} report reasons cleared in {elapsed:.1f} s."
    )


@chatdesk.command("retention")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def retention_command(dry_run: bool) -> None:
    """Delete threads archived longer than RETENTION_ARCHIVED_DAYS, with their files."""
    from .services.lifecycle import clerk_sync, retention

    if not dry_run:
        forgotten = clerk_sync.forget_deliveries()
        if forgotten:
            click.echo(
                f"Forgot {forgotten} webhook deliveries older than {clerk_sync.SEEN_DAYS} days."
            )
    days = current_app.config["RETENTION_ARCHIVED_DAYS"]
    if not days:
        click.echo("RETENTION_ARCHIVED_DAYS is not set: archived threads are kept.")
        return
    started = time.perf_counter()
    cutoff = retention.cutoff_for(days)
    result = retention.run(cutoff, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {result.threads} threads archived before {cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{result.messages} messages, {result.files} files "
        f"({time.perf_counter() - started:.1f} s)."
    )
