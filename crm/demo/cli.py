"""`flask --app wsgi crm seed-demo` and `crm generate`."""

import time

import click

from crm.demo import generate, services
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


@click.command("generate")
@click.option("--contacts", type=click.IntRange(0), default=generate.DEFAULT_CONTACTS,
              show_default=True, help="People; the other sizes follow in proportion.")
@click.option("--organisations", type=click.IntRange(0),
              help="Organisations [default: contacts / 4].")
@click.option("--events", type=click.IntRange(0), help="Events and trips [default: contacts / 500].")
@click.option("--leads", type=click.IntRange(0), help="Leads [default: contacts / 2].")
@click.option("--activities", type=click.IntRange(0),
              help="Notes and follow-ups [default: contacts x 5].")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed gives the same data.")
def generate_command(contacts, organisations, events, leads, activities, seed):
    """Add realistic fake data at the scale of years of work (for `make bench`): by default
    200,000 contacts, 50,000 organisations, 400 events, 100,000 leads, 1,000,000 notes."""
    sizes = generate.Sizes.for_contacts(contacts, organisations=organisations, events=events,
                                        leads=leads, activities=activities)
    started = time.monotonic()

    def progress(table, count):
        click.echo(f"{count:>9,} {table} ({time.monotonic() - started:.0f} s)")

    generate.generate(sizes, seed=seed, progress=progress)
    db.session.commit()
    click.echo(f"Done in {time.monotonic() - started:.0f} s.")
