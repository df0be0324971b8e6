"""WTForms forms (Flask-WTF adds the CSRF token to each)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


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
    """Resolve a report: dismiss it, or hide the reported message."""

    action = SelectField("Resolution", choices=["dismiss", "hide"])
    note = StringField("Reason", validators=[DataRequired(), Length(max=1000)])


class EraseUserForm(FlaskForm):
    """An admin erases a user's personal data: a reason, and the username typed to confirm."""

    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])
    confirm = StringField("Type the username to confirm", validators=[Length(max=64)])
