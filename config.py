"""Lotse's settings: read from environment variables, with defaults that are safe on one machine.

`load_config(instance_path)` returns a plain dict for `app.config`. It runs when the app is
created, not at import, so tests and the CLI can set the environment first. Nothing secret is
committed: the secret key comes from `SECRET_KEY` or is generated once into the instance folder.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
DEFAULT_SQLITE_FILE = "crm.sqlite3"


def load_config(instance_path, environ=None):
    """All settings of the app, from the environment `environ` (default: `os.environ`)."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    production = env.get("LOTSE_ENV", "development") == "production"
    database_url = normalise_database_url(
        env.get("DATABASE_URL") or f"sqlite:///{instance / DEFAULT_SQLITE_FILE}"
    )
    return {
        "LOTSE_ENV": "production" if production else "development",
        "SECRET_KEY": env.get("SECRET_KEY") or read_or_create_secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        # Cookies: HttpOnly and SameSite always, Secure in production (served over HTTPS).
        "SESSION_COOKIE_NAME": "lotse_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_bool(env, "SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=env_int(env, "SESSION_ABSOLUTE_TIMEOUT_MINUTES", 12 * 60)
        ),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=env_int(env, "SESSION_IDLE_TIMEOUT_MINUTES", 30)),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(
            minutes=env_int(env, "SESSION_ABSOLUTE_TIMEOUT_MINUTES", 12 * 60)
        ),
        "MAX_CONTENT_LENGTH": env_int(env, "MAX_CONTENT_LENGTH", 25 * 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": env.get("LOTSE_TIMEZONE", "Europe/Berlin"),
        "LANGUAGES": ("de", "en"),
        # Login attempts are counted in the app's database (every worker sees the same counts);
        # redis://host:6379 for several machines.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "lotse-db://"),
        "RATELIMIT_ENABLED": env_bool(env, "RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Attempts on one account from anywhere (a slow guess from many addresses).
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour"),
        # Requests per API token (counted where the login attempts are); empty: no limit.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "600 per minute"),
        # argon2id with the library's recommended cost; tests lower it through this switch.
        "PASSWORD_HASH_PROFILE": env.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY"),
        "PASSWORD_MIN_LENGTH": 12,
        "PASSWORD_MAX_LENGTH": 256,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # How many reverse proxies stand in front of the app (their X-Forwarded-* are trusted).
        "PROXY_COUNT": env_int(env, "PROXY_COUNT", 0),
        # The host names Lotse answers to (a leading dot: with every subdomain); any other
        # Host (or forwarded host) gets a 400, so links in emails cannot be steered elsewhere.
        "TRUSTED_HOSTS": env_list(env, "TRUSTED_HOSTS", ["localhost", "127.0.0.1"]),
        "DEMO_ADMIN_EMAIL": env.get("DEMO_ADMIN_EMAIL", "admin@lotse.example"),
        # The legal basis a new contact gets unless one is given (DSGVO Art. 6 (1) e).
        "DEFAULT_LEGAL_BASIS": env.get("DEFAULT_LEGAL_BASIS", "public_task"),
        # Phone numbers without a country code are read as numbers of this country.
        "DEFAULT_PHONE_REGION": env.get("DEFAULT_PHONE_REGION", "DE"),
        # Follow-ups made for the people met at an event are due this many working days after.
        "FOLLOW_UP_WORKING_DAYS": env_int(env, "FOLLOW_UP_WORKING_DAYS", 3),
        # Contacts without any activity for this many years come up for review (keep or erase).
        "RETENTION_YEARS": env_int(env, "RETENTION_YEARS", 3),
        # Report figures are kept this many seconds per user and filters (0: always fresh).
        "REPORTS_CACHE_SECONDS": env_int(env, "REPORTS_CACHE_SECONDS", 60),
        # Leads from this country (ISO 3166) count as domestic in the reports.
        "HOME_COUNTRY": env.get("HOME_COUNTRY", "DE"),
        # Reminder emails (`crm send-reminders`) go through this SMTP server.
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": env_int(env, "MAIL_PORT", 25),
        "MAIL_USE_TLS": env_bool(env, "MAIL_USE_TLS", False),
        "MAIL_USE_SSL": env_bool(env, "MAIL_USE_SSL", False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "Lotse CRM <lotse@localhost>"),
        "MAIL_TIMEOUT": env_int(env, "MAIL_TIMEOUT", 30),
        # Webhooks: how long a receiver has to answer, and the pauses before each further
        # attempt of a delivery that failed (then it is given up): 1 min, 5 min, 30 min, 2 h, 12 h.
        "WEBHOOK_TIMEOUT_SECONDS": env_int(env, "WEBHOOK_TIMEOUT_SECONDS", 5),
        # Webhooks to the local network (loopback, private, link-local addresses) only when
        # allowed: otherwise an address could make Lotse reach inside the agency's network.
        "WEBHOOK_ALLOW_LOCAL_NETWORK": env_bool(env, "WEBHOOK_ALLOW_LOCAL_NETWORK", False),
        "WEBHOOK_RETRY_SECONDS": env_ints(env, "WEBHOOK_RETRY_SECONDS",
                                          [60, 300, 1800, 7200, 43200]),
        # The address the app is reached at, for links in emails and calendar entries.
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
    }


def normalise_database_url(url):
    """Point `postgres://` and `postgresql://` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(database_url):
    """SQLAlchemy engine options that fit the database in use."""
    if database_url.startswith("sqlite"):
        # The busy timeout lets a writer wait for another one instead of failing at once.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_recycle": 1800}


def read_or_create_secret_key(instance):
    """The secret key kept in the instance folder, created the first time it is needed.

    Several gunicorn workers may start at the same moment: the key is written to a temporary
    file and linked into place, which fails for all but the first, so every worker reads the
    same key and nobody reads a half-written file.
    """
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = instance / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def env_bool(env, name, default):
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(env, name, default):
    """A comma-separated setting as a list (spaces around the commas do not matter)."""
    value = env.get(name)
    if value is None or not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_ints(env, name, default):
    """A comma-separated list of whole numbers, e.g. `60,300,1800`."""
    items = env_list(env, name, None)
    if items is None:
        return default
    try:
        numbers = [int(item) for item in items]
    except ValueError:
        numbers = [-1]
    if any(n < 0 for n in numbers):
        raise ValueError(f"{name} must be whole numbers (0 or more) separated by commas, "
                         f"not {env[name]!r}")
    return numbers


def env_int(env, name, default):
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
