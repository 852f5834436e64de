"""Commands for accounts and API tokens: `flask --app wsgi crm ...`."""

import sys

import click
from flask import current_app
from flask_babel import force_locale

from crm.auth import services
from crm.auth.models import ApiToken, Language, Role
from crm.core.services import ServiceError
from crm.extensions import db


def _user_or_fail(email):
    user = services.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"There is no user with the email address {email!r}.")
    return user


def _fail(error):
    """A service's refusal as a command-line error (exit status 1), in English."""
    with force_locale("en"):
        details = "; ".join(f"{name}: {', '.join(str(m) for m in msgs)}"
                            for name, msgs in error.fields.items())
        raise click.ClickException(details or str(error.message))


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value,
              show_default=True)
@click.option("--language", type=click.Choice([lang.value for lang in Language]),
              default=Language.DE.value, show_default=True)
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of generating one.")
def create_user(email, name, role, language, password_stdin):
    """Create an account and print its one-time password (or take one from stdin)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("No password on standard input.")
    try:
        user, one_time = services.create_user(email=email, name=name, role=role,
                                              language=language, password=password, actor=None)
    except ServiceError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {user.name} <{user.email}> as {user.role}.", err=True)
    if one_time:
        click.echo("One-time password (to be changed at the first login):", err=True)
        click.echo(one_time)


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="CLI", show_default=True, help="What the token is for.")
@click.option("--read-only", is_flag=True, help="The token may read, but change nothing.")
def create_token(email, name, read_only):
    """Create an API token for a user and print it (it is shown only this once)."""
    user = _user_or_fail(email)
    try:
        token, plaintext = services.create_token(user, name=name, actor=None,
                                                 read_only=read_only)
    except ServiceError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Token {token.id} ({token.name}) for {user.email}:", err=True)
    click.echo(plaintext)


@click.command("list-tokens")
@click.argument("email")
def list_tokens(email):
    """List a user's API tokens (never the tokens themselves)."""
    user = _user_or_fail(email)
    for token in user.tokens:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.is_revoked else "active"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        access = "read only" if token.is_read_only else "read and write"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{access}\t{state}\t"
                   f"last used {used}")


@click.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token(token_id):
    """Revoke an API token by its number (see list-tokens)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"There is no token {token_id}.")
    services.revoke_token(token, actor=None)
    db.session.commit()
    click.echo(f"Token {token.id} ({token.name}) of {token.user.email} is revoked.")


@click.command("reset-password")
@click.argument("email")
def reset_password(email):
    """Give a user a new one-time password and end their sessions."""
    user = _user_or_fail(email)
    password = services.reset_password(user, actor=None)
    db.session.commit()
    click.echo(f"New one-time password for {user.email}:", err=True)
    click.echo(password)


@click.command("one-time-login")
@click.option("--email", default=None, help="The first admin's email address.")
def one_time_login(email):
    """Print a way in for the first admin, as `make run` does.

    Creates the admin when there is no active one, gives a new one-time password to an admin
    who has never logged in, and otherwise only says who the admin is.
    """
    email = services.normalise_email(email or current_app.config["DEMO_ADMIN_EMAIL"])
    user = services.get_user_by_email(email)
    if user is None and services.count_active_admins() > 0:
        click.echo("An administrator exists already; log in with your own account.")
        return
    if user is None:
        try:
            user, password = services.create_user(email=email, name="Administrator",
                                                  role=Role.ADMIN.value, actor=None)
        except ServiceError as error:
            _fail(error)
    elif user.last_login_at is None and user.is_active:
        password = services.reset_password(user, actor=None)
    else:
        click.echo(f"Log in as {user.email} with your password. Forgotten it? "
                   f"flask --app wsgi crm reset-password {user.email}")
        return
    db.session.commit()
    click.echo(f"Log in as {user.email} with the one-time password {password}")
