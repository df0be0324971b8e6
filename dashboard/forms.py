"""WTForms forms: Flask-WTF adds the CSRF token to each POST form; GET filter forms have none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, StopValidation


class LoginForm(FlaskForm):
    """Staff and end users log in with a username or email and a password."""

    username = StringField(
        "Username or email",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=512)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Remember me")
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """An empty form: just the CSRF token, for buttons such as 'Log out'."""


# --- Dashboard pages: users, reports (Dashboard-pages helper) ---

# Plain strings: WTForms 3.3 deprecates (value, label) tuples; roles read fine as they are.
STAFF_ROLE_CHOICES = ["support", "moderator", "admin"]
ROLE_CHOICES = ["user", *STAFF_ROLE_CHOICES]


class ReasonForm(FlaskForm):
    """A destructive action on one target: asks why (the reason goes to the audit log)."""

    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])


class RoleForm(FlaskForm):
    """An admin gives a user another role."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])


class StaffAccountForm(FlaskForm):
    """An admin creates a staff account with a local password."""

    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=8, max=512, message="8 to 512 characters.")],
        render_kw={"autocomplete": "new-password"},
    )
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)


class ResolveReportForm(FlaskForm):
    """Resolve a report: dismiss it, hide the reported message, or archive its thread."""

    action = SelectField("Resolution", choices=["dismiss", "hide", "archive"])
    note = StringField("Reason", validators=[DataRequired(), Length(max=1000)])


class WatchedWordForm(FlaskForm):
    """A moderator adds a watched word, phrase or regex (the service validates the pattern)."""

    kind = SelectField("Kind", choices=["word", "phrase", "regex"], validate_choice=False)
    pattern = StringField("Word, phrase or pattern", validators=[Length(max=1000)])
    action = SelectField("Action", choices=["flag", "block"], validate_choice=False)


class CleanupForm(FlaskForm):
    """A moderator hides a user's messages in a time window, with a reason (spam clean-up)."""

    window = SelectField(
        "Messages from", choices=["hour", "day", "week", "all", "custom"], validate_choice=False
    )
    since = StringField("From (UTC)", validators=[Length(max=32)])
    until = StringField("Until (UTC)", validators=[Length(max=32)])
    reason = StringField("Reason", validators=[Length(max=1000)])
    deactivate = BooleanField("Also deactivate the account")


class EraseUserForm(FlaskForm):
    """An admin erases a user's personal data: a reason, and the username typed to confirm."""

    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])
    confirm = StringField("Type the username to confirm", validators=[Length(max=64)])


# --- GET filter forms: a list's query string, parsed and checked (no CSRF: GETs change nothing)


def _strip(value: str | None) -> str:
    return (value or "").strip()


class DayField(StringField):
    """A day (`YYYY-MM-DD`) or an ISO time, as naive UTC in `.day`; `end` days include the day."""

    def __init__(self, label: str = "", *, end: bool = False, **kw: Any) -> None:
        super().__init__(label, filters=[_strip], **kw)
        self.end = end
        self.day: datetime | None = None

    def pre_validate(self, form: Form) -> None:
        self.day = None
        if not self.data:
            return
        try:
            if len(self.data) == 10:
                day = datetime.strptime(self.data, "%Y-%m-%d")
                self.day = day + timedelta(days=1) if self.end else day
            else:
                parsed = datetime.fromisoformat(self.data.replace("Z", "+00:00"))
                # The database holds naive UTC.
                self.day = (
                    parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)
                )
        except ValueError:
            raise StopValidation("Use a date such as 2026-11-26.") from None


class ChoiceOrDefault(StringField):
    """One of `choices`; empty means `default`; anything else is an error (and the default)."""

    def __init__(self, label: str = "", *, choices: tuple[str, ...], message: str, **kw: Any):
        super().__init__(label, filters=[_strip], default=choices[0], **kw)
        self.choices, self.message = choices, message

    def pre_validate(self, form: Form) -> None:
        value = str(getattr(self, "data", "") or "")
        self.data = value if value in self.choices else self.choices[0]
        if value and value not in self.choices:
            raise StopValidation(self.message)


class ThreadFilterForm(Form):
    """The staff thread list's filters (SPEC §4): state, people, dates, title text, sort."""

    state = ChoiceOrDefault(
        choices=("active", "archived", "all"), message="Pick active, archived or all."
    )
    participant = StringField(filters=[_strip])
    creator = StringField(filters=[_strip])
    created_from = DayField()
    created_to = DayField(end=True)
    active_from = DayField()
    active_to = DayField(end=True)
    q = StringField(filters=[_strip])
    sort = ChoiceOrDefault(choices=("activity", "created"), message="Sort by activity or created.")


class UserFilterForm(Form):
    """The users list's filters: role, active, online, text (the service checks the role)."""

    role = StringField(filters=[_strip])
    active = StringField(filters=[_strip])
    online = StringField(filters=[_strip])
    q = StringField(filters=[_strip, lambda v: v[:200]])


class AuditFilterForm(Form):
    """The audit log's filters: actor, action, target, time range (the service reads times)."""

    actor = StringField(filters=[_strip, lambda v: v[:64]])
    action = StringField(filters=[_strip, lambda v: v[:64]])
    target_type = StringField(filters=[_strip, lambda v: v[:32]])
    target_id = StringField(filters=[_strip, lambda v: v[:64]])
    since = StringField(filters=[_strip, lambda v: v[:32]])
    until = StringField(filters=[_strip, lambda v: v[:32]])


def query_form(form_class: type[Form], values: Mapping[str, str]) -> Any:
    """A filter form bound to a query string, a POSTed form or a plain mapping, validated."""
    data = values if hasattr(values, "getlist") else MultiDict(dict(values))
    form = form_class(formdata=data)
    form.validate()
    return form
