"""`flask --app wsgi crm deliver-webhooks`."""

import click

from crm.webhooks.delivery import deliver_due


@click.command("deliver-webhooks")
def deliver_webhooks_command():
    """Send the webhook deliveries that are due: those not sent at once after their change
    (the process ended first) and the next attempts of those that failed.

    Run it every minute (cron or a systemd timer); several at once send nothing twice.
    """
    outcome = deliver_due()
    click.echo(f"{outcome.delivered} delivered, {outcome.retrying} to be tried again later, "
               f"{outcome.failed} given up.")
