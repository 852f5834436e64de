import threading

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.auth import services
from crm.auth.models import ApiToken, User
from crm.core.services import ConflictError, ValidationError
from crm.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_token, make_user


def user_count():
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def audit_actions():
    return db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()


# Creating accounts.


def test_create_user_hashes_the_password_with_argon2id_and_lowercases_the_email(app):
    user = make_user(email="  Lea.Schaefer@Lotse.Example ")
    assert user.email == "lea.schaefer@lotse.example"
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash


def test_create_user_without_password_generates_a_one_time_password(app):
    user, password = services.create_user(email="new@lotse.example", name="Neu", actor=None)
    assert len(password) >= 12
    assert user.must_change_password is True
    assert services.authenticate("new@lotse.example", password) == user


def test_names_in_other_scripts_are_kept_exactly(app):
    user = make_user(name="김민정 (Min-jung Kim)")
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "김민정 (Min-jung Kim)"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a" * 250 + "@x.de"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"role": "superuser"}, "role"),
        ({"language": "fr"}, "language"),
        ({"password": "short"}, "password"),
        ({"password": "elevenchars"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"password": " " * 12}, "password"),
    ],
)
def test_create_user_refuses_bad_input_by_field_and_saves_nothing(app, data, field):
    fields = {"email": "ok@lotse.example", "name": "Okay", "role": "member", "language": "de",
              "password": DEFAULT_PASSWORD, **data}
    with pytest.raises(ValidationError) as raised:
        services.create_user(**fields, actor=None)
    assert field in raised.value.fields
    db.session.rollback()
    assert user_count() == 0


def test_create_user_refuses_an_email_that_exists_in_other_case(app):
    make_user(email="katrin@lotse.example")
    with pytest.raises(ValidationError) as raised:
        make_user(email="KATRIN@lotse.example")
    assert "email" in raised.value.fields


def test_password_of_exactly_twelve_characters_is_accepted(app):
    user = make_user(password="twelve chars")
    assert services.authenticate(user.email, "twelve chars") == user


# Logging in.


def test_authenticate_accepts_the_right_password_and_records_the_login(app):
    user = make_user()
    assert services.authenticate(user.email.upper(), DEFAULT_PASSWORD) == user
    assert user.last_login_at is not None
    assert audit_actions()[-1] == "auth.login"


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "deactivated"])
def test_authenticate_refuses_and_records_the_failure(app, case):
    user = make_user()
    email, password = user.email, DEFAULT_PASSWORD
    if case == "wrong password":
        password = "not the password at all"
    elif case == "unknown email":
        email = "nobody@lotse.example"
    else:
        make_user(role="admin")
        services.deactivate_user(user, actor=None)
    assert services.authenticate(email, password) is None
    assert audit_actions()[-1] == "auth.login_failed"


def test_no_audit_entry_holds_a_password(app):
    user = make_user()
    services.authenticate(user.email, "a wrong password that is secret")
    services.change_password(user, current_password=DEFAULT_PASSWORD,
                             new_password="the new secret password", actor=user)
    services.reset_password(user, actor=None)
    db.session.commit()
    dumped = " ".join(str((e.changes, e.record_label)) for e in db.session.scalars(sa.select(AuditEntry)))
    for secret in (DEFAULT_PASSWORD, "a wrong password that is secret", "the new secret password",
                   user.password_hash):
        assert secret not in dumped


# Sessions.


def test_a_session_reference_stops_working_after_log_out(app):
    user = make_user()
    reference = user.get_id()
    assert services.load_session_user(reference) == user
    services.log_out(user)
    assert services.load_session_user(reference) is None
    assert services.load_session_user(user.get_id()) == user


@pytest.mark.parametrize("reference", ["", "abc", "1", "1:", ":1", "1:x", "999:1", "1:1:1", None])
def test_malformed_session_references_load_nobody(app, reference):
    make_user()
    assert services.load_session_user(reference) is None


def test_deactivation_ends_every_session(app):
    make_user(role="admin")
    user = make_user()
    reference = user.get_id()
    services.deactivate_user(user, actor=None)
    assert services.load_session_user(reference) is None


# Passwords.


def test_change_password_needs_the_current_password(app):
    user = make_user()
    with pytest.raises(ValidationError) as raised:
        services.change_password(user, current_password="wrong", new_password="a brand new password",
                                 actor=user)
    assert "current_password" in raised.value.fields


@pytest.mark.parametrize("new_password", ["too short", DEFAULT_PASSWORD, "y" * 257])
def test_change_password_refuses_weak_or_unchanged_passwords(app, new_password):
    user = make_user()
    with pytest.raises(ValidationError) as raised:
        services.change_password(user, current_password=DEFAULT_PASSWORD,
                                 new_password=new_password, actor=user)
    assert "new_password" in raised.value.fields


def test_change_password_ends_other_sessions_and_clears_the_one_time_flag(app):
    user, one_time = services.create_user(email="x@lotse.example", name="X", actor=None)
    reference = user.get_id()
    services.change_password(user, current_password=one_time, new_password="my own long password",
                             actor=user)
    assert user.must_change_password is False
    assert services.load_session_user(reference) is None
    assert services.authenticate(user.email, "my own long password") == user


def test_reset_password_gives_a_new_one_time_password_and_ends_sessions(app):
    user = make_user()
    reference = user.get_id()
    password = services.reset_password(user, actor=None)
    assert user.must_change_password is True
    assert services.load_session_user(reference) is None
    assert services.authenticate(user.email, DEFAULT_PASSWORD) is None
    assert services.authenticate(user.email, password) == user


# Roles and the last admin.


def test_the_last_admin_cannot_be_deactivated(app):
    admin = make_user(role="admin")
    with pytest.raises(ValidationError) as raised:
        services.deactivate_user(admin, actor=admin)
    assert "is_active" in raised.value.fields
    db.session.rollback()
    assert db.session.get(User, admin.id).is_active


def test_the_last_admin_cannot_be_demoted(app):
    admin = make_user(role="admin")
    with pytest.raises(ValidationError) as raised:
        services.update_user(admin, actor=admin, role="manager")
    assert "role" in raised.value.fields
    db.session.rollback()
    assert db.session.get(User, admin.id).role == "admin"


def test_an_admin_can_be_demoted_while_another_active_admin_remains(app):
    first, second = make_user(role="admin"), make_user(role="admin")
    services.update_user(first, actor=second, role="member")
    assert first.role == "member"
    with pytest.raises(ValidationError):
        services.deactivate_user(second, actor=second)


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(app):
    first, second = make_user(role="admin"), make_user(role="admin")
    services.deactivate_user(second, actor=first)
    with pytest.raises(ValidationError):
        services.update_user(first, actor=first, role="member")


def test_update_user_with_an_outdated_version_is_a_conflict(app):
    user = make_user()
    seen = user.version
    services.update_user(user, actor=None, expected_version=seen, name="First change")
    db.session.commit()
    with pytest.raises(ConflictError):
        services.update_user(user, actor=None, expected_version=seen, name="Second change")
    assert user.name == "First change"


def test_update_user_records_only_the_changed_fields(app):
    user = make_user(name="Alt")
    services.update_user(user, actor=None, name="Neu", role="manager")
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "user.update"
    assert entry.changes == {"name": ["Alt", "Neu"], "role": ["member", "manager"]}


# API tokens.


def test_tokens_are_stored_only_as_hashes(app):
    user = make_user()
    token, plaintext = make_token(user)
    assert plaintext.startswith("lotse_") and len(plaintext) > 40
    stored = db.session.execute(sa.select(ApiToken.token_hash, ApiToken.prefix)).one()
    assert plaintext not in stored.token_hash
    assert plaintext.startswith(stored.prefix) and len(stored.prefix) < 16
    assert services.authenticate_token(plaintext) == token


def test_revoked_tokens_and_tokens_of_deactivated_users_stop_working(app):
    make_user(role="admin")
    user, other = make_user(), make_user()
    token, plaintext = make_token(user)
    _, other_plaintext = make_token(other)
    services.revoke_token(token, actor=user)
    services.deactivate_user(other, actor=None)
    assert services.authenticate_token(plaintext) is None
    assert services.authenticate_token(other_plaintext) is None


@pytest.mark.parametrize("plaintext", ["", "lotse_", "lotse_unknown", "x" * 5000, "lotse_\x00",
                                       "lotse_\udcff"])
def test_malformed_tokens_authenticate_nobody(app, plaintext):
    make_token(make_user())
    assert services.authenticate_token(plaintext) is None


def test_token_needs_a_name(app):
    with pytest.raises(ValidationError) as raised:
        services.create_token(make_user(), name="  ", actor=None)
    assert "name" in raised.value.fields


def test_a_failed_login_logs_what_was_typed_only_if_it_is_an_email_address(app):
    services.authenticate("my secret password 123", "whatever it is")
    services.authenticate("Someone@Example.org", "whatever it is")
    labels = db.session.scalars(sa.select(AuditEntry.record_label).order_by(AuditEntry.id)).all()
    assert labels == ["[not an email address]", "someone@example.org"]


def run_in_thread(app, work):
    """Run `work()` in its own thread with its own app context and database session."""
    outcome = {}

    def target():
        with app.app_context():
            try:
                outcome["result"] = work()
                db.session.commit()
            except ValidationError as error:
                db.session.rollback()
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app):
    first, second = make_user(role="admin"), make_user(role="admin")
    for _ in range(5):
        barrier = threading.Barrier(2)

        def demote(user_id, other_id, barrier=barrier):
            def work():
                barrier.wait()
                user = db.session.get(User, user_id)
                return services.update_user(user, actor=db.session.get(User, other_id),
                                            role="member")
            return work

        threads = [run_in_thread(app, demote(first.id, second.id)),
                   run_in_thread(app, demote(second.id, first.id))]
        for thread, _ in threads:
            thread.join(timeout=30)
        db.session.expire_all()
        assert services.count_active_admins() >= 1
        assert sum("error" in outcome for _, outcome in threads) >= 1
        # Make both admins again for the next round.
        for user in (first, second):
            db.session.get(User, user.id).role = "admin"
        db.session.commit()


def test_an_email_taken_by_a_concurrent_create_is_a_field_error(app):
    holding = threading.Event()
    release = threading.Event()

    def create_and_hold():
        user, _ = services.create_user(email="same@lotse.example", name="Erste", actor=None,
                                       password=DEFAULT_PASSWORD)
        db.session.flush()
        holding.set()
        release.wait(timeout=30)
        return user

    thread, outcome = run_in_thread(app, create_and_hold)
    assert holding.wait(timeout=30)
    # The first account is written but not committed: the check finds nothing, the insert waits.
    threading.Timer(0.5, release.set).start()
    with pytest.raises(ValidationError) as raised:
        services.create_user(email="same@lotse.example", name="Zweite", actor=None,
                             password=DEFAULT_PASSWORD)
    assert "email" in raised.value.fields
    db.session.rollback()
    thread.join(timeout=30)
    assert "error" not in outcome
    assert db.session.scalars(sa.select(User.name)).all() == ["Erste"]
