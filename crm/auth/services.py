"""Accounts, passwords, sessions and API tokens: the rules, for views, the API and the CLI.

Every function takes the acting user as `actor` and records what it changed in the audit log;
the caller commits. Passwords are hashed with argon2id and never logged.
"""

import hashlib
import re
import secrets
from datetime import timedelta

import argon2
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.audit.services import diff, record, snapshot
from crm.auth.models import ApiToken, Language, Role, User
from crm.core.models import utcnow
from crm.core.routing import MAX_ID
from crm.core.services import NotFoundError, ValidationError, check_version
from crm.extensions import db

EDITABLE_FIELDS = ("email", "name", "role", "language")
NAME_MAX_LENGTH = 200
TOKEN_PREFIX = "lotse_"
# Readable one-time passwords: no 0/O, 1/l/I.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# How often a token's "last used" time is written, at most.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
SESSION_REF = re.compile(r"(?P<id>[0-9]{1,10}):(?P<version>[0-9]{1,10})", re.ASCII)

_hashers = {}


# Passwords.


def _hasher():
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if profile not in _hashers:
        _hashers[profile] = argon2.PasswordHasher.from_parameters(getattr(argon2.profiles, profile))
    return _hashers[profile]


def hash_password(password):
    return _hasher().hash(password)


def _verify(password_hash, password):
    try:
        return _hasher().verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def password_problems(password):
    """What is wrong with a new password, as messages (empty when it is fine)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    maximum = current_app.config["PASSWORD_MAX_LENGTH"]
    if len(password) < minimum:
        return [_l("The password must be at least %(n)d characters long.", n=minimum)]
    if len(password) > maximum:
        return [_l("The password may be at most %(n)d characters long.", n=maximum)]
    if not password.strip():
        return [_l("The password must not consist of spaces only.")]
    return []


def generate_password():
    """A one-time password of 20 random characters in groups of five (about 116 bits)."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


def _set_password(user, password):
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


# Finding users.


def normalise_email(email):
    return (email or "").strip().lower()


def get_user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(_l("There is no such user."))
    return user


def count_active_admins(exclude=None):
    query = sa.select(sa.func.count(User.id)).where(
        User.role == Role.ADMIN.value, User.is_active.is_(True)
    )
    if exclude is not None:
        query = query.where(User.id != exclude.id)
    return db.session.scalar(query)


def _write_columns(user, **values):
    """Write bookkeeping columns straight to the row, past the version check.

    A login or logout must neither fail because an admin just edited the account nor make the
    admin's open form stale. Expressions (`User.session_version + 1`) are applied atomically.
    """
    db.session.execute(sa.update(User).where(User.id == user.id).values(**values),
                       execution_options={"synchronize_session": False})
    db.session.expire(user, list(values))


# Signing in and out.


def authenticate(email, password):
    """The active user with this email and password, or None. Both failures look the same."""
    user = get_user_by_email(email)
    if user is None:
        # Spend the time a real check takes, so the answer's timing does not tell either.
        _verify(_dummy_hash(), password)
        # People type passwords into the email field: log what was typed only if it is an
        # email address.
        record("auth.login_failed", actor=None, label=_loggable_email(email))
        return None
    if not _verify(user.password_hash, password) or not user.is_active:
        record("auth.login_failed", actor=None, record=user, label=user.email)
        return None
    values = {"last_login_at": utcnow()}
    if _hasher().check_needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    _write_columns(user, **values)
    record("auth.login", actor=user, record=user, label=user.email)
    return user


def _loggable_email(text):
    try:
        return validate_email(normalise_email(text), check_deliverability=False).normalized
    except EmailNotValidError:
        return "[not an email address]"


def _dummy_hash():
    key = current_app.config["PASSWORD_HASH_PROFILE"]
    if ("dummy", key) not in _hashers:
        _hashers[("dummy", key)] = hash_password(secrets.token_hex(16))
    return _hashers[("dummy", key)]


def load_session_user(session_ref):
    """The user a session cookie refers to, if that session is still valid.

    The reference is `"<id>:<session version>"`; logging out, a password change, a reset and a
    deactivation raise the version, and every session made before no longer matches.
    """
    match = SESSION_REF.fullmatch(session_ref or "")
    if match is None or int(match["id"]) > MAX_ID:
        return None
    user_id, version = int(match["id"]), match["version"]
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def end_sessions(user):
    """End every session of `user`, on every device, at their next request."""
    _write_columns(user, session_version=User.session_version + 1)


def log_out(user):
    """Sign `user` out everywhere."""
    end_sessions(user)
    record("auth.logout", actor=user, record=user, label=user.email)


# Managing accounts.


def create_user(*, email, name, role=Role.MEMBER.value, language=Language.DE.value, actor,
                password=None):
    """A new account. Without `password`, a one-time password is generated and returned.

    Returns `(user, one_time_password)`; the one-time password is None when one was given.
    """
    data = _validated(email=email, name=name, role=role, language=language)
    _check_email_free(data["email"])
    one_time = None
    if password is None:
        password = one_time = generate_password()
    problems = password_problems(password)
    if problems:
        raise ValidationError(problems[0], fields={"password": problems})
    user = User(**data, is_active=True, must_change_password=one_time is not None)
    _set_password(user, password)
    _flush_unique_email(user)
    record("user.create", actor=actor, record=user, label=user.email,
           changes=diff({}, snapshot(user, EDITABLE_FIELDS)))
    return user, one_time


def update_user(user, *, actor, expected_version=None, **fields):
    """Change email, name, role or language of an account."""
    check_version(user, expected_version)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    before = snapshot(user, EDITABLE_FIELDS)
    data = _validated(**{**before, **fields})
    if data["email"] != user.email:
        _check_email_free(data["email"])
    demoting_admin = user.role == Role.ADMIN.value and data["role"] != Role.ADMIN.value
    if demoting_admin:
        _lock_active_admins()
    for field, value in data.items():
        setattr(user, field, value)
    changes = diff(before, data)
    if changes:
        user.version += 1
        _flush_unique_email(user)
        if demoting_admin:
            _refuse_if_no_admin_left("role", _l("The last administrator cannot be demoted."))
        record("user.update", actor=actor, record=user, label=user.email, changes=changes)
    return user


def deactivate_user(user, *, actor):
    """Lock an account out: its sessions and API tokens stop working at once."""
    if not user.is_active:
        return user
    is_admin = user.role == Role.ADMIN.value
    if is_admin:
        _lock_active_admins()
    user.is_active = False
    user.version += 1
    db.session.flush()
    if is_admin:
        _refuse_if_no_admin_left("is_active", _l("The last administrator cannot be deactivated."))
    end_sessions(user)
    record("user.deactivate", actor=actor, record=user, label=user.email,
           changes={"is_active": (True, False)})
    return user


def reactivate_user(user, *, actor):
    if user.is_active:
        return user
    user.is_active = True
    user.version += 1
    record("user.reactivate", actor=actor, record=user, label=user.email,
           changes={"is_active": (False, True)})
    return user


def reset_password(user, *, actor):
    """Give `user` a new one-time password and end their sessions. Returns the password."""
    password = generate_password()
    _set_password(user, password)
    user.must_change_password = True
    end_sessions(user)
    record("user.password_reset", actor=actor, record=user, label=user.email)
    return password


def change_password(user, *, current_password, new_password, actor):
    """The user's own change of password. Every other session of theirs ends."""
    if not _verify(user.password_hash, current_password):
        message = _l("The current password is not correct.")
        raise ValidationError(message, fields={"current_password": [message]})
    problems = password_problems(new_password)
    if problems:
        raise ValidationError(problems[0], fields={"new_password": problems})
    if _verify(user.password_hash, new_password):
        message = _l("The new password must differ from the current one.")
        raise ValidationError(message, fields={"new_password": [message]})
    _set_password(user, new_password)
    user.must_change_password = False
    end_sessions(user)
    record("user.password_change", actor=actor, record=user, label=user.email)
    return user


def set_language(user, language, *, actor):
    data = _validated(email=user.email, name=user.name, role=user.role, language=language)
    if data["language"] != user.language:
        record("user.update", actor=actor, record=user, label=user.email,
               changes={"language": (user.language, data["language"])})
        user.language = data["language"]
        user.version += 1
    return user


def _validated(*, email, name, role, language):
    """The account fields, cleaned; a ValidationError names every field that is wrong."""
    errors = {}
    try:
        email = normalise_email(
            validate_email(normalise_email(email), check_deliverability=False).normalized
        )
    except EmailNotValidError:
        errors["email"] = [_l("Enter a valid email address.")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_l("Enter a name.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_l("The name may be at most %(n)d characters long.", n=NAME_MAX_LENGTH)]
    if role not in Role.__members__.values():
        errors["role"] = [_l("Choose one of the roles.")]
    if language not in Language.__members__.values():
        errors["language"] = [_l("Choose one of the languages.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    return {"email": email, "name": name, "role": role, "language": language}


def _check_email_free(email):
    if get_user_by_email(email) is not None:
        message = _l("A user with this email address exists already.")
        raise ValidationError(message, fields={"email": [message]})


def _lock_active_admins():
    """Lock the active admins' rows (PostgreSQL), so that two admins demoting or deactivating
    each other at the same moment are handled one after the other, never both."""
    db.session.execute(
        sa.select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()


def _refuse_if_no_admin_left(field, message):
    """Checked after the change is flushed: it sees every change committed before this one.

    The caller rolls the transaction back on the ValidationError.
    """
    if count_active_admins() == 0:
        raise ValidationError(message, fields={field: [message]})


def _flush_unique_email(user):
    """Flush `user`; an email taken by someone else in the meantime is a field error, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError:
        message = _l("A user with this email address exists already.")
        raise ValidationError(message, fields={"email": [message]}) from None


# API tokens.


def _token_hash(plaintext):
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user, *, name, actor, read_only=False):
    """A new API token for `user`, which may only read if `read_only`. Returns
    `(token, plaintext)`; the plaintext is shown once."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        message = _l("Give the token a name of at most 100 characters.")
        raise ValidationError(message, fields={"name": [message]})
    if not user.is_active:
        message = _l("A deactivated user cannot get a token.")
        raise ValidationError(message, fields={"user": [message]})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_token_hash(plaintext),
                     prefix=plaintext[: len(TOKEN_PREFIX) + 6], is_read_only=bool(read_only))
    db.session.add(token)
    db.session.flush()
    record("token.create", actor=actor, record=token, label=f"{user.email}: {token}",
           changes={"is_read_only": (None, token.is_read_only)})
    return token, plaintext


def revoke_token(token, *, actor):
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("token.revoke", actor=actor, record=token, label=f"{token.user.email}: {token}")
    return token


def authenticate_token(plaintext):
    """The token record for a bearer token, if it is valid and its user active; else None."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(plaintext))
        .options(sa.orm.joinedload(ApiToken.user))
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        # In a transaction of its own: a request only reading must not have to commit.
        with db.engine.begin() as connection:
            connection.execute(sa.update(ApiToken).where(ApiToken.id == token.id)
                               .values(last_used_at=now))
        db.session.expire(token, ["last_used_at"])
    return token


# Private calendar feeds.

CALENDAR_PREFIX = "cal_"


def enable_calendar(user, *, actor):
    """A new secret address for the user's calendar feed; any earlier one stops working.
    Returns the secret (shown once; only its hash is kept)."""
    secret = CALENDAR_PREFIX + secrets.token_urlsafe(32)
    renewed = user.calendar_token_hash is not None
    user.calendar_token_hash = _token_hash(secret)
    record("user.calendar_renew" if renewed else "user.calendar_enable", actor=actor,
           record=user, label=user.email)
    return secret


def disable_calendar(user, *, actor):
    if user.calendar_token_hash is not None:
        user.calendar_token_hash = None
        record("user.calendar_disable", actor=actor, record=user, label=user.email)
    return user


def user_for_calendar(secret):
    """The active user whose calendar feed `secret` opens, or None."""
    if not secret or not secret.startswith(CALENDAR_PREFIX) or len(secret) > 200:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token_hash == _token_hash(secret)))
    return user if user is not None and user.is_active else None
