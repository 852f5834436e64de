"""`flask --app wsgi crm seed-demo`."""

import click

from crm.demo import services
from crm.extensions import db


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only load the demo data into an empty database.")
def seed_demo(if_empty):
    """Load the demo data. Running it again changes nothing."""
    if if_empty and not services.database_is_empty():
        click.echo("The database holds data already; demo data not loaded.")
        return
    added = services.seed_demo()
    db.session.commit()
    summary = ", ".join(f"{count} {kind}" for kind, count in added.items())
    click.echo(f"Demo data loaded: {summary} added.")
