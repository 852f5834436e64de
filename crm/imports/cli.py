"""`flask --app wsgi crm import FILE`: people and their organisations from a CSV or XLSX."""

from pathlib import Path

import click

from crm.core.services import ValidationError
from crm.events.models import AttendanceStatus, Event
from crm.extensions import db
from crm.imports.reading import HEADER_NAMES, guess_mapping, read_table
from crm.imports.services import import_contacts

MAX_FILE_BYTES = 50 * 1024 * 1024


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--event", "event_id", type=int, help="Record everyone at this event (id).")
@click.option("--status", type=click.Choice([s.value for s in AttendanceStatus]),
              default="met", show_default=True, help="How they were at the event.")
@click.option("--source", help="Where the data comes from (DSGVO), e.g. 'Badge-Scanner'.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; save nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the good rows even if some cannot be read (default: none then).")
def import_command(path, event_id, status, source, dry_run, skip_invalid):
    """Import the people in PATH (CSV or XLSX; columns found by their German or English
    names), updating those who exist (by email, else name and organisation)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException("The file is larger than 50 MB.")
    try:
        table = read_table(path.name, path.read_bytes())
    except ValidationError as error:
        raise click.ClickException(str(error.message)) from None
    mapping = guess_mapping(table.header)
    if not set(mapping.values()) & {"first_name", "last_name", "email"}:
        known = ", ".join(names[0] for names in HEADER_NAMES.values())
        raise click.ClickException(f"No column names a person. Known column names: {known}.")
    event = None
    if event_id is not None:
        event = db.session.get(Event, event_id)
        if event is None or event.is_deleted:
            raise click.ClickException(f"There is no event {event_id}.")
    for index, name in sorted(mapping.items()):
        click.echo(f"Column {table.header[index]!r} -> {name}")
    outcome = import_contacts(table, mapping, actor=None, filename=path.name, event=event,
                              status=status, source=source)
    for row in outcome.failed:
        problems = "; ".join(f"{name}: {' '.join(messages)}"
                             for name, messages in row.errors.items())
        click.echo(f"Row {row.number}: {problems}", err=True)
    counts = outcome.counts()
    summary = ", ".join(f"{count} {action}" for action, count in counts.items())
    if dry_run or (outcome.failed and not skip_invalid):
        db.session.rollback()
        if dry_run:
            click.echo(f"Dry run, nothing saved: {summary}.")
            return
        raise click.ClickException(f"Nothing imported, {len(outcome.failed)} rows cannot be "
                                   f"read ({summary}); fix them or use --skip-invalid.")
    db.session.commit()
    click.echo(f"Imported: {summary}.")
