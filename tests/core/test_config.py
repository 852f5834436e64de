import multiprocessing
import stat

import pytest
import sqlalchemy as sa

from config import load_config, normalise_database_url, read_or_create_secret_key
from crm import create_app


def test_sqlite_in_the_instance_folder_is_the_default(tmp_path):
    config = load_config(tmp_path, environ={"SECRET_KEY": "x"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/crm.sqlite3"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] > 0


@pytest.mark.parametrize("url", ["postgres://u:p@db/crm", "postgresql://u:p@db/crm",
                                 "postgresql+psycopg://u:p@db/crm"])
def test_postgresql_urls_use_psycopg_3(tmp_path, url):
    config = load_config(tmp_path, environ={"SECRET_KEY": "x", "DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/crm"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_a_missing_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_config(tmp_path, environ={})["SECRET_KEY"]
    second = load_config(tmp_path, environ={})["SECRET_KEY"]
    assert first == second and len(first) >= 64
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_the_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    assert load_config(tmp_path, environ={"SECRET_KEY": "from-env"})["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def _read_key(path, queue):
    queue.put(read_or_create_secret_key(path))


def test_workers_starting_together_all_get_the_same_secret_key(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_read_key, args=(tmp_path, queue)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = {queue.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join()
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_production_cookies_are_secure(tmp_path):
    config = load_config(tmp_path, environ={"SECRET_KEY": "x", "LOTSE_ENV": "production"})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_malformed_number_in_the_environment_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="SESSION_IDLE_TIMEOUT_MINUTES must be a whole number"):
        load_config(tmp_path, environ={"SECRET_KEY": "x", "SESSION_IDLE_TIMEOUT_MINUTES": "half"})


def test_normalise_leaves_sqlite_alone():
    assert normalise_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_creating_the_app_creates_no_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    database = tmp_path / "empty.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    app = create_app(instance_path=str(tmp_path / "instance"))
    with app.app_context():
        app.test_client().get("/login")
        engine = sa.create_engine(f"sqlite:///{database}")
        assert sa.inspect(engine).get_table_names() == []
        engine.dispose()


def test_the_webhook_retry_schedule_comes_from_the_environment(tmp_path):
    assert load_config(tmp_path, {"SECRET_KEY": "x"})["WEBHOOK_RETRY_SECONDS"] == [
        60, 300, 1800, 7200, 43200]
    config = load_config(tmp_path, {"SECRET_KEY": "x", "WEBHOOK_RETRY_SECONDS": "10, 20,30"})
    assert config["WEBHOOK_RETRY_SECONDS"] == [10, 20, 30]
    for bad in ("10,ten", "10,-5"):
        with pytest.raises(ValueError, match="WEBHOOK_RETRY_SECONDS"):
            load_config(tmp_path, {"SECRET_KEY": "x", "WEBHOOK_RETRY_SECONDS": bad})
