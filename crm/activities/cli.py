"""`flask --app wsgi crm send-reminders`."""

import click
from flask_babel import to_user_timezone

from crm.activities.reminders import send_reminders
from crm.core.models import utcnow


@click.command("send-reminders")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to remind of (default: today).")
def send_reminders_command(day):
    """Email each active user today's digest: due follow-ups, quiet leads, near decisions.

    Run it once a day (cron or a systemd timer); running it again sends nothing twice. Exits
    with status 1 and names the users whose digest could not be sent; the next run sends them.
    """
    today = day.date() if day else to_user_timezone(utcnow()).date()
    outcome = send_reminders(today)
    for user in outcome.sent:
        click.echo(f"sent to {user.email}")
    click.echo(f"{len(outcome.sent)} sent, {outcome.already} already sent today, "
               f"{outcome.nothing} with nothing to remind of, {len(outcome.failed)} failed.")
    if outcome.failed:
        for user, reason in outcome.failed:
            click.echo(f"NOT sent to {user.email}: {reason}", err=True)
        raise SystemExit(1)

