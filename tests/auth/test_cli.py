import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.auth import services
from crm.auth.models import ApiToken, User
from crm.extensions import db
from tests.factories import make_token, make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()  # result.stdout holds only what scripts read

    def run(*args, input=None):
        result = runner.invoke(args=["crm", *args], input=input)
        db.session.expire_all()
        return result

    return run


def test_create_user_prints_a_one_time_password_that_logs_in(cli):
    result = cli("create-user", "Katrin.Sommer@lotse.example", "--name", "Katrin Sommer",
                 "--role", "manager")
    assert result.exit_code == 0, result.output
    password = result.stdout.strip().splitlines()[-1]
    user = services.authenticate("katrin.sommer@lotse.example", password)
    assert user.role == "manager" and user.must_change_password


def test_create_user_reads_the_password_from_stdin(cli):
    result = cli("create-user", "a@lotse.example", "--name", "A", "--password-stdin",
                 input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = services.authenticate("a@lotse.example", "a long enough password")
    assert user is not None and not user.must_change_password
    assert "a long enough password" not in result.output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["not-an-email", "--name", "X"], None, "email"),
    (["a@lotse.example", "--name", ""], None, "name"),
    (["a@lotse.example", "--name", "X", "--role", "king"], None, "Invalid value for '--role'"),
    (["a@lotse.example", "--name", "X", "--password-stdin"], "short\n", "at least 12"),
    (["a@lotse.example", "--name", "X", "--password-stdin"], "", "No password"),
    (["taken@lotse.example", "--name", "X"], None, "exists already"),
])
def test_create_user_refuses_bad_input_with_a_message(cli, args, stdin, message):
    make_user(email="taken@lotse.example")
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    result = cli("create-user", *args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_create_token_prints_a_working_token(cli, client):
    make_user(email="api@lotse.example")
    result = cli("create-token", "api@lotse.example", "--name", "newsletter")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json["email"] == "api@lotse.example"


def test_a_read_only_token_from_the_command_line(cli, client):
    make_user(email="reader@lotse.example")
    result = cli("create-token", "reader@lotse.example", "--name", "report", "--read-only")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    refused = client.post("/api/v1/organisations", json={"name": "X", "kind": "investor"},
                          headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "read_only_token"
    assert "report\tread only\tactive" in cli("list-tokens", "reader@lotse.example").output


@pytest.mark.parametrize("command", ["create-token", "list-tokens", "reset-password"])
def test_commands_for_an_unknown_user_fail_with_a_message(cli, command):
    result = cli(command, "nobody@lotse.example")
    assert result.exit_code == 1
    assert "There is no user with the email address 'nobody@lotse.example'" in result.output


def test_list_and_revoke_tokens(cli, client):
    user = make_user()
    token, plaintext = make_token(user, name="reporting")
    listing = cli("list-tokens", user.email)
    assert "reporting" in listing.output and "active" in listing.output
    assert plaintext not in listing.output
    assert cli("revoke-token", str(token.id)).exit_code == 0
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    assert "revoked" in cli("list-tokens", user.email).output


@pytest.mark.parametrize("token_id", ["999", "abc", "-1"])
def test_revoking_an_unknown_token_fails_with_a_message(cli, token_id):
    result = cli("revoke-token", token_id)
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_reset_password_prints_a_new_one_time_password(cli):
    user = make_user()
    result = cli("reset-password", user.email)
    password = result.stdout.strip().splitlines()[-1]
    assert services.authenticate(user.email, password) is not None


def test_one_time_login_creates_the_first_admin_and_renews_until_first_login(cli, app):
    first = cli("one-time-login")
    assert first.exit_code == 0
    password = first.output.strip().split()[-1]
    admin = services.get_user_by_email(app.config["DEMO_ADMIN_EMAIL"])
    assert admin.role == "admin"
    second = cli("one-time-login")
    renewed = second.output.strip().split()[-1]
    assert renewed != password
    assert services.authenticate(admin.email, password) is None
    assert services.authenticate(admin.email, renewed) is not None
    db.session.commit()
    third = cli("one-time-login")
    assert "with your password" in third.output and renewed not in third.output


def test_one_time_login_leaves_an_existing_admin_alone(cli):
    make_user(role="admin", email="chef@lotse.example")
    result = cli("one-time-login")
    assert "An administrator exists already" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_the_real_flask_command_fails_cleanly_on_bad_input(tmp_path, app):
    env = {**os.environ, "SECRET_KEY": "x", "PASSWORD_HASH_PROFILE": "CHEAPEST",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run([str(flask), "--app", "wsgi", "crm", "create-user", "broken",
                             "--name", "X"], check=False, cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert "Error: email: Enter a valid email address." in result.stderr
    assert "Traceback" not in result.stderr
