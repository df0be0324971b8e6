"""The chatdesk commands: create-user and seed."""

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, Mention, Message, Participant, Report, Thread, User


def n(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_create_user(app, runner):
    result = runner.invoke(
        args=[
            "chatdesk",
            "create-user",
            "Ops",
            "--email",
            "ops@example.test",
            "--password",
            "long password",
            "--role",
            "moderator",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created moderator Ops" in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "Ops"))
        assert user.role == "moderator" and user.check_password("long password")


def test_create_user_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["chatdesk", "create-user", "quiet", "--email", "q@example.test"],
        input="long password\nlong password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "quiet")).check_password(
            "long password"
        )


def test_create_user_errors_are_clear_and_write_nothing(app, runner):
    ok = runner.invoke(
        args=[
            "chatdesk",
            "create-user",
            "dup",
            "--email",
            "d@example.test",
            "--password",
            "long password",
        ]
    )
    assert ok.exit_code == 0
    again = runner.invoke(
        args=[
            "chatdesk",
            "create-user",
            "DUP",
            "--email",
            "e@example.test",
            "--password",
            "long password",
        ]
    )
    assert again.exit_code != 0 and "username" in again.output and "already taken" in again.output
    short = runner.invoke(args=["chatdesk", "create-user", "x2", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    bad_role = runner.invoke(
        args=["chatdesk", "create-user", "x3", "--password", "long password", "--role", "king"]
    )
    assert bad_role.exit_code != 0
    with app.app_context():
        assert n(User) == 1


def test_seed_makes_realistic_demo_data(app, runner):
    result = runner.invoke(
        args=[
            "chatdesk",
            "seed",
            "--users",
            "30",
            "--threads",
            "40",
            "--messages",
            "3000",
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    # --quiet (what `make run` uses, which prints the logins itself): the summary line only.
    assert result.output.startswith("Seeded 30 users, 40 threads, 3000 messages")
    assert "Demo logins" not in result.output
    with app.app_context():
        assert n(User) == 35  # 30 plus the five demo logins
        assert n(Thread) == 40
        assert n(Message) == 3000
        assert n(Message, Message.parent_id.is_not(None)) > 0
        assert n(Mention) > 0
        assert n(Attachment) > 0
        assert n(Thread, Thread.is_archived) > 0
        assert n(Report, Report.state == "open") > 0
        assert n(Participant, Participant.read_through.is_not(None)) > 0
        # The thread counters agree with the rows.
        counted = db.session.execute(
            sa.select(Message.thread_id, sa.func.count()).group_by(Message.thread_id)
        ).all()
        stored = dict(db.session.execute(sa.select(Thread.id, Thread.message_count)).all())
        assert all(stored[tid] == c for tid, c in counted)
        # Replies stay in their parent's thread; ids follow creation times.
        bad = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .join(Message.__table__.alias("p"), sa.text("p.id = messages.parent_id"))
            .where(sa.text("p.thread_id != messages.thread_id"))
        )
        assert bad == 0
        demo = db.session.scalar(sa.select(User).where(User.username == "moderator"))
        assert demo.check_password("chatdesk-demo")


def test_seed_twice_adds_more_without_clashing(app, runner):
    for quiet in (["--quiet"], []):
        result = runner.invoke(
            args=["chatdesk", "seed", "--users", "20", "--threads", "5", "--messages", "50", *quiet]
        )
        assert result.exit_code == 0, result.output
    # Without --quiet the demo logins are listed, once.
    assert result.output.count("Demo logins") == 1 and "  moderator  moderator" in result.output
    with app.app_context():
        assert n(User) == 45


def test_make_run_prints_the_demo_logins_once():
    """`make run`: the seed runs --quiet (no login list), the recipe prints the logins once,
    and "Serving on" comes from wsgi.py alone."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "chatdesk seed --quiet" in recipe
    assert recipe.count("Demo logins") == 1
    assert "Serving on" not in recipe
