"""Which language and time zone a request is answered in."""

import sqlalchemy as sa
from flask import current_app, g, has_request_context, session
from flask_login import current_user


def select_locale():
    """The signed-in user's language; before login, the one chosen for this browser; else German."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = g.get("api_user")
    if g.get("database_failed"):
        # An error page for a failed database must not ask it who the user is.
        user = user or g.get("_login_user")
    elif user is None and current_user.is_authenticated:
        user = current_user
    if getattr(user, "is_anonymous", False):
        user = None
    if user is not None:
        language = _loaded_language(user) if g.get("database_failed") else user.language
        if language:
            return language
    chosen = session.get("language")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _loaded_language(user):
    """The user's language if it is loaded already, without asking the database."""
    state = sa.inspect(user, raiseerr=False)
    return state.dict.get("language") if state is not None else None


def N_(text):
    """Mark `text` for translation where it is translated later (e.g. by Flask-Login)."""
    return text


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
