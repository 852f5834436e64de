"""Commands for the whole database: `flask --app wsgi crm backup PATH`."""

import click

from crm.audit.services import record
from crm.core.backup import BackupError, backup
from crm.extensions import db


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path):
    """Write a consistent copy of the database to PATH while Lotse runs (restore: README)."""
    try:
        size = backup(db.engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    record("database.backup", actor=None, label=click.format_filename(path))
    db.session.commit()
    click.echo(f"Backup written to {click.format_filename(path)} ({size:,} bytes).")
