"""WTForms forms (Flask-WTF adds the CSRF token to each)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
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
