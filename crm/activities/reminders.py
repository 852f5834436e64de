"""The daily reminder: one email per user with what is due, what is going quiet and what is about
to be decided. `crm send-reminders` runs it; a user gets at most one digest a day."""

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from crm.activities.models import Activity, ReminderDigest
from crm.activities.queries import open_follow_ups
from crm.auth.models import User
from crm.extensions import db
from crm.leads.models import Lead, Status

QUIET_DAYS = 30
DECISION_DAYS = 14


@dataclass
class Digest:
    """What one user is reminded of."""

    user: User
    due: list = field(default_factory=list)
    quiet_leads: list = field(default_factory=list)
    deciding_leads: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.due or self.quiet_leads or self.deciding_leads)


@dataclass
class Outcome:
    sent: list = field(default_factory=list)  # users
    failed: list = field(default_factory=list)  # (user, reason)
    already: int = 0
    nothing: int = 0


def digest_for(user, today):
    """The user's overdue and today's follow-ups, their open leads without an activity for 30
    days, and their open leads whose decision is expected within 14 days."""
    # Not those on a deleted person or on a confidential lead the user may no longer see.
    due = db.session.scalars(open_follow_ups(user, assignee_id=user.id, due_to=today)).all()
    open_leads = sa.and_(Lead.owner_id == user.id, Lead.deleted_at.is_(None),
                         Lead.status.in_((Status.ONGOING.value, Status.DELAYED.value,
                                          Status.DORMANT.value)))
    # Counted back from the day reminded of (which `--date` may set), not from now.
    since = datetime.combine(today - timedelta(days=QUIET_DAYS), time(0, 0),
                             tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    recent = sa.select(Activity.lead_id).where(Activity.lead_id.isnot(None),
                                               Activity.occurred_at >= since,
                                               Activity.deleted_at.is_(None))
    quiet = db.session.scalars(
        sa.select(Lead).where(open_leads, Lead.created_at < since, Lead.id.not_in(recent))
        .order_by(Lead.title_sort)).all()
    deciding = db.session.scalars(
        sa.select(Lead).where(open_leads, Lead.expected_decision_on.between(
            today, today + timedelta(days=DECISION_DAYS)))
        .order_by(Lead.expected_decision_on)).all()
    return Digest(user, due, quiet, deciding)


def send_reminders(today):
    """Send today's digests to every active user who has something to be reminded of and got
    none today. A user whose digest failed gets it on the next run."""
    outcome = Outcome()
    already = set(db.session.scalars(sa.select(ReminderDigest.user_id)
                                     .where(ReminderDigest.sent_on == today)))
    digests = []
    for user in db.session.scalars(sa.select(User).where(User.is_active.is_(True))
                                   .order_by(User.id)):
        if user.id in already:
            outcome.already += 1
            continue
        digest = digest_for(user, today)
        if digest:
            digests.append(digest)
        else:
            outcome.nothing += 1
    if not digests:
        return outcome
    try:
        connection = _connect()
    except (OSError, smtplib.SMTPException) as error:
        outcome.failed = [(d.user, f"SMTP: {error}") for d in digests]
        return outcome
    try:
        for digest in digests:
            message = _message(digest, today)
            # The day's row claims the digest before it is sent, so that a run going on at the
            # same time skips the user instead of sending it twice; no lock is held while the
            # SMTP server answers. A digest that could not be sent gives its claim back.
            claim = ReminderDigest(user_id=digest.user.id, sent_on=today)
            db.session.add(claim)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                outcome.already += 1
                continue
            try:
                connection.send_message(message)
            except (OSError, smtplib.SMTPException) as error:
                db.session.delete(claim)
                db.session.commit()  # not sent, so not recorded: the next run sends it
                outcome.failed.append((digest.user, str(error)))
                continue
            outcome.sent.append(digest.user)
    finally:
        _quit(connection)
    return outcome


def _quit(connection):
    """Say goodbye to the SMTP server; what it answers no longer matters."""
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _connect():
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    connection = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"],
                            timeout=config["MAIL_TIMEOUT"])
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            connection.starttls()
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _message(digest, today):
    """The digest as an email in the user's language."""
    with force_locale(digest.user.language):
        message = EmailMessage()
        count = len(digest.due)
        message["Subject"] = (ngettext("Lotse: %(num)s follow-up due",
                                       "Lotse: %(num)s follow-ups due", count)
                              if count else _("Lotse: your leads"))
        message["From"] = current_app.config["MAIL_FROM"]
        message["To"] = formataddr((digest.user.name, digest.user.email))
        message["Message-ID"] = make_msgid(domain="lotse.local")
        message.set_content(render_template("emails/digest.txt", digest=digest, today=today,
                                            base=current_app.config["PUBLIC_URL"]))
    return message
