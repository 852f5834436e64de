"""Large files checked and imported in the background, part by part, with their progress on
the upload for the page to show.

Each part (`PART_ROWS` rows) is a transaction of its own: a check rolls it back, an import
commits it, so that others can save in between (SQLite lets one writer at a time) and the page
can tell how far it is. An import that has to stop (a row that cannot be read, unless those
are to be left out) is undone as a whole with `undo_import`, as a user would."""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.core.models import utcnow
from crm.core.services import ValidationError
from crm.extensions import db
from crm.imports.models import ContactImport, ImportUpload
from crm.imports.reading import RawTable, read_table
from crm.imports.services import RowOutcome, import_contacts, record_counts, undo_import

log = logging.getLogger(__name__)

# Files with more rows than this are checked and imported in the background.
LARGE = 5_000
PART_ROWS = 2_000
# On SQLite, someone waiting to write retries every 100 ms at most (its busy handler): the
# job pauses this long after each part, or it would take the lock again first, every time.
SQLITE_PAUSE_SECONDS = 0.15
# The results of the first rows are kept for the page, as for a small file.
SHOWN_ROWS = 100
# A job not heard of for this long has stopped (its process ended): it can be started again.
STALLED_AFTER = timedelta(minutes=2)
ACTIONS = ("created", "updated", "unchanged", "failed", "empty")
# Why a job stopped, as the page says it.
PROBLEMS = {
    "unreadable": _l("Rows that cannot be read stop the import; nothing has been imported."),
    "changed_since": _l("Rows that cannot be read stopped the import; the rows before them "
                        "were imported and have been changed since: undo them under "
                        "“Earlier imports”."),
    "event_gone": _l("The event has been deleted; upload the file again with another one, "
                     "or none."),
    "error": _l("Something went wrong; nothing has been imported. Try again, or import the "
                "file with the command line."),
}


@dataclass
class StoredOutcome:
    """What a background check or import found, as the preview shows an `ImportOutcome`:
    the counts of all rows, the rows that cannot be read, the result of the first rows."""

    totals: dict
    failed: list[RowOutcome]
    rows: list[RowOutcome] = field(default_factory=list)

    def counts(self):
        return self.totals

    @classmethod
    def of(cls, result):
        def outcome(number, action, errors):
            return RowOutcome(number, action, errors=errors)

        return cls(result["counts"], [outcome(n, "failed", e) for n, e in result["failed"]],
                   [outcome(*row) for row in result["rows"]])


def is_running(upload):
    return upload.job_state == "running" and upload.job_seen_at is not None and \
        upload.job_seen_at > utcnow() - STALLED_AFTER


def start(upload, mapping, *, job, actor, skip_invalid=False):
    """Start checking (`job` "check") or importing ("import") `upload` with `mapping` in a
    thread of its own; refused while a job of the upload runs. Returns the thread."""
    if is_running(upload):
        raise ValidationError(_l("This file is being worked on; wait until it is done."))
    upload.job, upload.job_state, upload.rows_done, upload.job_result = job, "running", 0, None
    upload.job_options = {"mapping": {str(index): name for index, name in mapping.items()},
                          "skip_invalid": skip_invalid}
    upload.job_seen_at = utcnow()
    db.session.commit()
    thread = threading.Thread(target=_run, name=f"import-{upload.id}", daemon=True,
                              args=(current_app._get_current_object(), upload.id, actor.id))
    thread.start()
    return thread


def _run(app, upload_id, user_id):
    with app.app_context():
        upload = db.session.get(ImportUpload, upload_id)
        try:
            _work(upload, db.session.get(User, user_id))
        except Exception:
            log.exception("The background %s of upload %s failed", upload.job, upload_id)
            db.session.rollback()
            _finish(upload, "failed", {"problem": "error"})
        finally:
            db.session.remove()


def _work(upload, actor):
    table = read_table(upload.filename, upload.data)
    options = upload.job_options
    mapping = {int(index): name for index, name in options["mapping"].items()}
    event = upload.event if upload.event is not None and not upload.event.is_deleted else None
    importing = upload.job == "import"
    if importing and upload.event is not None and event is None:
        return _finish(upload, "failed", {"problem": "event_gone"})
    numbered = list(table.numbered())
    counts, failed, shown, done = dict.fromkeys(ACTIONS, 0), [], [], None
    for start in range(0, len(numbered), PART_ROWS):
        part = numbered[start:start + PART_ROWS]
        outcome = import_contacts(
            RawTable(header=table.header, rows=[row for _, row in part],
                     numbers=[number for number, _ in part]),
            mapping, actor=actor, filename=upload.filename, event=event, status=upload.status,
            contact_import=done)
        for action, count in outcome.counts().items():
            counts[action] += count
        failed += [[row.number, row.errors] for row in outcome.failed]
        shown += [[row.number, row.action, row.errors]
                  for row in outcome.rows[:SHOWN_ROWS - len(shown)]]
        if importing and outcome.failed and not options["skip_invalid"]:
            db.session.rollback()
            return _stop(upload, done, actor, counts, failed, shown)
        if importing:
            done = outcome.contact_import
            done.counts = dict(counts)
        else:
            db.session.rollback()
        upload.rows_done, upload.job_seen_at = start + len(part), utcnow()
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            time.sleep(SQLITE_PAUSE_SECONDS)
    result = {"counts": counts, "failed": failed, "rows": shown}
    if importing and done is not None:
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "contacts.import", AuditEntry.record_type == "contact_imports",
            AuditEntry.record_id == done.id))
        record_counts(entry, done, counts)
        result["import_id"] = done.id
    _finish(upload, "done", result)


def _stop(upload, done, actor, counts, failed, shown):
    """An import stopped by a row that cannot be read: what went in before it is undone."""
    problem = "unreadable"
    if done is not None:
        try:
            undo_import(db.session.get(ContactImport, done.id), actor=actor)
            db.session.commit()
        except ValidationError:
            db.session.rollback()
            problem = "changed_since"
    _finish(upload, "failed", {"counts": counts, "failed": failed, "rows": shown,
                               "problem": problem})


def _finish(upload, state, result):
    upload.job_state, upload.job_result, upload.job_seen_at = state, result, utcnow()
    db.session.commit()
