"""`flask --app wsgi crm send-reminders`: one digest a day per active user, in their language,
through a real SMTP server (see `smtp_server` in conftest.py); a failed digest goes out on the
next run."""

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import to_user_timezone

from crm.activities import reminders
from crm.activities import services as activity_services
from crm.activities.models import ReminderDigest
from crm.auth import services as auth_services
from crm.contacts import services as contact_services
from crm.core.models import utcnow
from crm.extensions import db
from crm.leads import services as lead_services
from tests.factories import make_activity, make_contact, make_lead, make_user
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"


@pytest.fixture
def app(mail_app):
    """Every test here runs against the app that sends to the test's SMTP server."""
    return mail_app


@pytest.fixture
def send(app):
    """`send(*options)`: run `flask crm send-reminders` as the CLI does."""
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=["crm", "send-reminders", *args])
        db.session.expire_all()
        return result

    return run


def today():
    """Today in the agency's time zone, as the command sees it."""
    return to_user_timezone(utcnow()).date()


def follow_up(user, due_on, body, *, subject=None, author=None):
    return make_activity(actor=author or user, assignee=user, due_on=due_on, body=body,
                         subject=subject)


def quiet_lead(owner, title, *, days=40):
    """A lead of `owner` entered `days` ago, without any activity since."""
    lead = make_lead(actor=owner, title=title)
    lead.created_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return lead


def text_of(message):
    return message.get_body(("plain",)).get_content()


def digests_sent():
    """(user id, day) of every digest recorded as sent."""
    return set(db.session.execute(sa.select(ReminderDigest.user_id, ReminderDigest.sent_on)))


def test_one_digest_with_due_follow_ups_quiet_leads_and_near_decisions(app, send,
                                                                       smtp_server):
    day = today()
    user = make_user(name="Lea Schäfer", email="lea@lotse.example", language="de")
    colleague = make_user(name="Jonas Weber", email="jonas@lotse.example")
    idle = make_user(email="idle@lotse.example")
    contact = make_contact(first_name="Do-hyun", last_name="Kim")
    follow_up(user, day - timedelta(days=3), "Exposés an Hyundai schicken", subject=contact,
              author=colleague)
    due_lead = make_lead(actor=user, title="Testzentrum Fahrerassistenz")
    follow_up(user, day, "LG zurückrufen: Q&A <Termin> klären", subject=due_lead)
    follow_up(user, day + timedelta(days=1), "Morgen erst fällig")
    done = follow_up(user, day - timedelta(days=1), "Schon erledigt")
    activity_services.mark_done(done, actor=user)
    follow_up(colleague, day - timedelta(days=1), "Nicht meine Wiedervorlage")
    quiet = quiet_lead(user, "Stilles Projekt")
    busy = quiet_lead(user, "Belebtes Projekt")
    make_activity(actor=colleague, subject=busy, occurred_at=utcnow() - timedelta(days=5))
    quiet_lead(user, "Neues Projekt", days=10)
    quiet_lead(colleague, "Projekt des Kollegen")
    deciding = make_lead(actor=user, title="Entscheidung naht",
                         expected_decision_on=day + timedelta(days=10))
    make_lead(actor=user, title="Entscheidung später",
              expected_decision_on=day + timedelta(days=20))
    make_lead(actor=user, title="Entscheidung vorbei",
              expected_decision_on=day - timedelta(days=1))

    result = send()

    assert result.exit_code == 0, result.output
    assert "sent to lea@lotse.example" in result.stdout
    assert smtp_server.to(idle.email) == []
    assert len(smtp_server.to(colleague.email)) == 1  # their own follow-up and quiet lead
    assert len(smtp_server.messages) == 2
    (message,) = smtp_server.to(user.email)
    assert message["Subject"] == "Lotse: 2 Wiedervorlagen fällig"
    assert message["To"].addresses[0].addr_spec == "lea@lotse.example"
    assert message["To"].addresses[0].display_name == "Lea Schäfer"
    assert message["From"] == app.config["MAIL_FROM"]
    text = text_of(message)
    assert text.startswith("Guten Morgen, Lea Schäfer.")
    lines = text.splitlines()
    overdue_line = next(line for line in lines if "Exposés an Hyundai" in line)
    assert "(überfällig)" in overdue_line
    assert (day - timedelta(days=3)).strftime("%d.%m.%Y") in overdue_line
    today_line = next(line for line in lines if "LG zurückrufen" in line)
    assert "Q&A <Termin> klären" in today_line and "überfällig" not in today_line
    assert f"Do-hyun Kim – http://127.0.0.1:5000/contacts/{contact.id}" in text
    assert f"/leads/{due_lead.id}" in text
    for absent in ("Morgen erst fällig", "Schon erledigt", "Nicht meine Wiedervorlage",
                   "Belebtes Projekt", "Neues Projekt", "Projekt des Kollegen",
                   "Entscheidung später", "Entscheidung vorbei"):
        assert absent not in text
    quiet_part = text.split("Ihre Leads ohne Aktivität seit 30 Tagen:")[1]
    assert f"Stilles Projekt ({quiet.organisation.name}, Lead) – " \
           f"http://127.0.0.1:5000/leads/{quiet.id}" in quiet_part
    deciding_part = text.split("Ihre Leads mit erwarteter Entscheidung in den nächsten "
                               "14 Tagen:")[1]
    assert f"{(day + timedelta(days=10)).strftime('%d.%m.%Y')}: Entscheidung naht" \
           in deciding_part and f"/leads/{deciding.id}" in deciding_part
    assert digests_sent() == {(user.id, day), (colleague.id, day)}


def test_nothing_to_remind_of_means_no_email(send, smtp_server):
    make_user()
    result = send()
    assert result.exit_code == 0
    assert "0 sent" in result.output and "1 with nothing to remind of" in result.output
    assert smtp_server.messages == [] and digests_sent() == set()


def test_a_deactivated_user_gets_no_digest(send, smtp_server):
    user = make_user()
    follow_up(user, today() - timedelta(days=2), "Überfällig, aber ausgeschieden")
    quiet_lead(user, "Verwaistes Projekt")
    auth_services.deactivate_user(user, actor=None)
    db.session.commit()
    result = send()
    assert result.exit_code == 0
    assert smtp_server.messages == [] and digests_sent() == set()


def test_closed_leads_are_not_reminded_of(send, smtp_server):
    user = make_user()
    lead = quiet_lead(user, "Abgesagtes Projekt")
    lead_services.change_status(lead, "abandoned", actor=user, reason="Kein Vorhaben mehr",
                                closed_on=today().isoformat())
    lead.expected_decision_on = today() + timedelta(days=3)
    db.session.commit()
    assert send().exit_code == 0
    assert smtp_server.messages == []


def test_follow_ups_on_deleted_people_or_leads_kept_from_the_user_are_left_out(send,
                                                                                 smtp_server):
    user, owner = make_user(), make_user()
    contact = make_contact()
    follow_up(user, today(), "Person gelöscht", subject=contact)
    contact_services.delete_contact(contact, actor=owner)
    lead = make_lead(actor=owner, title="Vertrauliches Vorhaben", is_confidential=True,
                     team_member_ids=[user.id])
    follow_up(user, today(), "Standortangebot schicken", subject=lead, author=owner)
    lead_services.update_lead(lead, {"team_member_ids": []}, actor=owner)
    db.session.commit()
    assert send().exit_code == 0
    assert smtp_server.to(user.email) == []


def test_each_user_reads_their_digest_in_their_language(send, smtp_server):
    day = today()
    german = make_user(email="de@lotse.example", name="Katrin Sommer", language="de")
    english = make_user(email="en@lotse.example", name="Wei Zhang", language="en")
    leads_only = make_user(email="leads@lotse.example", name="Jonas Weber", language="en")
    for user in (german, english):
        follow_up(user, day - timedelta(days=1), f"Nachfassen ({user.email})")
        make_lead(actor=user, title=f"Projekt von {user.name}",
                  expected_decision_on=day + timedelta(days=7))
    quiet_lead(leads_only, "Quiet project")

    assert send().exit_code == 0

    (de,) = smtp_server.to(german.email)
    assert de["Subject"] == "Lotse: 1 Wiedervorlage fällig"
    text = text_of(de)
    for phrase in ("Guten Morgen, Katrin Sommer.",
                   "Fällige Wiedervorlagen (überfällig und heute):", "(überfällig)",
                   "Ihre Leads mit erwarteter Entscheidung in den nächsten 14 Tagen:",
                   (day - timedelta(days=1)).strftime("%d.%m.%Y"), "Ihre Wiedervorlagen:",
                   "Lotse CRM schickt diese Erinnerung einmal am Tag"):
        assert phrase in text, phrase
    assert "Good morning" not in text and "overdue" not in text

    (en,) = smtp_server.to(english.email)
    assert en["Subject"] == "Lotse: 1 follow-up due"
    text = text_of(en)
    for phrase in ("Good morning, Wei Zhang.", "Follow-ups due (overdue and today):",
                   "(overdue)", "Your leads with a decision expected within 14 days:",
                   f"{day - timedelta(days=1):%b} {(day - timedelta(days=1)).day}, ",
                   "Your follow-ups:", "Lotse CRM sends this reminder once a day"):
        assert phrase in text, phrase
    assert "Guten Morgen" not in text and "überfällig" not in text

    (leads,) = smtp_server.to(leads_only.email)
    assert leads["Subject"] == "Lotse: your leads"
    assert "Your leads without any activity for 30 days:" in text_of(leads)
    assert "Follow-ups due" not in text_of(leads)


def test_running_twice_on_one_day_sends_nothing_twice(send, smtp_server):
    user = make_user()
    follow_up(user, today(), "Heute fällig")
    first = send()
    assert first.exit_code == 0 and "1 sent" in first.output
    second = send()
    assert second.exit_code == 0
    assert "0 sent, 1 already sent today" in second.output
    assert len(smtp_server.to(user.email)) == 1
    assert digests_sent() == {(user.id, today())}


def test_the_date_option_reminds_of_another_day(send, smtp_server):
    user = make_user(language="de")
    day = today() + timedelta(days=5)
    follow_up(user, day, "In fünf Tagen fällig")
    quiet_lead(user, "Erst seit 20 Tagen still", days=20)

    assert "1 with nothing to remind of" in send().output  # not due today, not quiet yet
    assert smtp_server.messages == []

    result = send("--date", (day + timedelta(days=10)).isoformat())
    assert result.exit_code == 0, result.output
    (message,) = smtp_server.to(user.email)
    text = text_of(message)
    assert "In fünf Tagen fällig" in text and "(überfällig)" in text
    assert "Erst seit 20 Tagen still" in text  # 30 days without activity on that day
    assert digests_sent() == {(user.id, day + timedelta(days=10))}

    result = send("--date", day.isoformat())
    assert result.exit_code == 0
    second = smtp_server.to(user.email)[1]
    assert "In fünf Tagen fällig" in text_of(second) and "(überfällig)" not in text_of(second)
    assert "Erst seit 20 Tagen still" not in text_of(second)
    assert "already sent today" in send("--date", day.isoformat()).output
    assert len(smtp_server.to(user.email)) == 2


def test_a_run_at_the_same_time_does_not_send_a_digest_twice(send, smtp_server, monkeypatch):
    user = make_user()
    follow_up(user, today(), "Heute fällig")
    connect = reminders._connect

    def another_run_gets_there_first():
        with db.engine.begin() as connection:
            connection.execute(sa.insert(ReminderDigest).values(
                user_id=user.id, sent_on=today(), sent_at=utcnow()))
        return connect()

    monkeypatch.setattr(reminders, "_connect", another_run_gets_there_first)
    result = send()
    assert result.exit_code == 0, result.output
    assert "0 sent, 1 already sent today" in result.output
    assert smtp_server.messages == []


@pytest.mark.parametrize("value", ["2026-13-01", "morgen", "21.11.2026", ""])
def test_a_bad_date_is_refused_with_a_message(send, smtp_server, value):
    user = make_user()
    follow_up(user, today(), "Heute fällig")
    result = send("--date", value)
    assert result.exit_code == 2
    assert "Invalid value for '--date'" in result.output and "Traceback" not in result.output
    assert smtp_server.messages == [] and digests_sent() == set()


def test_a_failing_smtp_server_names_the_users_and_a_later_run_sends_them(send, smtp_server):
    day = today()
    first = make_user(email="erste@lotse.example")
    second = make_user(email="zweite@lotse.example", language="en")
    make_user(email="nichts@lotse.example")
    follow_up(first, day, "Heute fällig")
    quiet_lead(second, "Stilles Projekt")
    smtp_server.stop()

    failed = send()

    assert failed.exit_code == 1
    assert "NOT sent to erste@lotse.example" in failed.stderr
    assert "NOT sent to zweite@lotse.example" in failed.stderr
    assert "nichts@lotse.example" not in failed.output
    assert "0 sent" in failed.stdout and "2 failed" in failed.stdout
    assert "Traceback" not in failed.output
    assert digests_sent() == set()

    smtp_server.start()
    later = send()

    assert later.exit_code == 0, later.output
    assert "sent to erste@lotse.example" in later.stdout
    assert "sent to zweite@lotse.example" in later.stdout
    assert len(smtp_server.to(first.email)) == len(smtp_server.to(second.email)) == 1
    assert digests_sent() == {(first.id, day), (second.id, day)}


def test_a_refused_recipient_fails_alone_and_gets_it_next_time(send, smtp_server):
    day = today()
    first = make_user(email="erste@lotse.example")
    refused = make_user(email="abgelehnt@lotse.example")
    for user in (first, refused):
        follow_up(user, day, f"Wiedervorlage für {user.email}")
    smtp_server.mailbox.refuse.add(refused.email)

    failed = send()

    assert failed.exit_code == 1
    assert "NOT sent to abgelehnt@lotse.example" in failed.stderr
    assert "erste@lotse.example" not in failed.stderr
    assert "1 sent" in failed.stdout and "1 failed" in failed.stdout
    assert digests_sent() == {(first.id, day)}

    smtp_server.mailbox.refuse.clear()
    later = send()

    assert later.exit_code == 0
    assert "1 sent, 1 already sent today" in later.stdout
    assert len(smtp_server.to(first.email)) == len(smtp_server.to(refused.email)) == 1
    assert digests_sent() == {(first.id, day), (refused.id, day)}


def test_the_real_flask_command_sends_fails_and_sends_later(app, smtp_server):
    user = make_user(email="lea@lotse.example", name="Lea Schäfer")
    follow_up(user, today() - timedelta(days=1), "Überfällig: Exposés schicken")
    db.session.commit()
    env = {**os.environ, "SECRET_KEY": "x", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MAIL_SERVER": smtp_server.host, "MAIL_PORT": str(free_port()), "MAIL_TIMEOUT": "5"}
    for name in ("MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD"):
        env.pop(name, None)

    def flask(**settings):
        return subprocess.run([str(FLASK), "--app", "wsgi", "crm", "send-reminders"], check=False,
                              cwd=ROOT,
                              env={**env, **settings}, capture_output=True, text=True,
                              timeout=60)

    closed = flask()
    assert closed.returncode == 1, closed.stderr
    assert "NOT sent to lea@lotse.example" in closed.stderr
    assert "Traceback" not in closed.stderr
    db.session.expire_all()
    assert digests_sent() == set() and smtp_server.messages == []

    sent = flask(MAIL_PORT=str(smtp_server.port))
    assert sent.returncode == 0, sent.stderr
    assert "sent to lea@lotse.example" in sent.stdout
    (message,) = smtp_server.to(user.email)
    assert "Überfällig: Exposés schicken" in text_of(message)
    db.session.expire_all()
    assert digests_sent() == {(user.id, today())}

    again = flask(MAIL_PORT=str(smtp_server.port))
    assert again.returncode == 0
    assert "0 sent, 1 already sent today" in again.stdout
    assert len(smtp_server.messages) == 1


def test_a_follow_up_on_a_person_who_asked_not_to_be_contacted_says_so(send, smtp_server):
    user = make_user()
    objected = make_contact(first_name="Jürgen", last_name="Weiß", do_not_contact=True)
    willing = make_contact(first_name="Eva", last_name="Klein")
    follow_up(user, today(), "Widerspruch bestätigen", subject=objected)
    follow_up(user, today(), "Angebot schicken", subject=willing)
    assert send().exit_code == 0
    (message,) = smtp_server.to(user.email)
    lines = text_of(message).splitlines()
    assert any(line.strip().startswith("Jürgen Weiß (nicht kontaktieren)") for line in lines)
    assert any(line.strip().startswith("Eva Klein –") for line in lines)
