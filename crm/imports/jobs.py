"""Large files checked and imported in the background, part by part, with their progress on
the upload for the page to show.

Each part (`PART_ROWS` rows) is a transaction of its own: a check rolls it back, an import
commits it, so that others can save in between (SQLite lets one writer at a time) and the page
can tell how far it is. An import that does not get through (a row that cannot be read unless
those are to be left out, an error, a process that ended) is undone as a whole with
`undo_import`, as a user would; until it is done, nobody else can undo it.

A job belongs to the thread that claimed it with its token (`start`, in one conditional
UPDATE): a thread whose token is no longer the upload's (a stalled job started again) stops at
its next part without saving it."""

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.core.models import utcnow
from crm.core.services import ValidationError
from crm.extensions import db
from crm.imports.models import ContactImport, ImportUpload, Job, JobState
from crm.imports.reading import RawTable, read_table
from crm.imports.services import (
    ACTIONS,
    RowOutcome,
    import_contacts,
    record_counts,
    undo_import,
)

log = logging.getLogger(__name__)

# Files with more rows than this are checked and imported in the background.
LARGE_FILE_ROWS = 5_000
PART_ROWS = 2_000
# On SQLite, someone waiting to write retries every 100 ms at most (its busy handler): the
# job pauses this long after each part, or it would take the lock again first, every time.
SQLITE_PAUSE_SECONDS = 0.15
# The results of the first rows are kept for the page, as for a small file.
SHOWN_ROWS = 100
# A job not heard of for this long has stopped (its process ended): it can be started again.
STALLED_AFTER = timedelta(minutes=2)
# Why a job stopped, as the page says it.
PROBLEMS = {
    "unreadable": _l("Rows that cannot be read stop the import; nothing has been imported."),
    "changed_since": _l("The import stopped; the rows imported before have been changed "
                        "since: undo them under “Earlier imports”."),
    "event_gone": _l("The event has been deleted; upload the file again with another one, "
                     "or none."),
    "error": _l("Something went wrong; nothing has been imported. Try again, or import the "
                "file with the command line."),
    "interrupted": _l("The work on this file was interrupted (the application was "
                      "restarted); nothing has been imported. Start it again."),
}


class _Superseded(Exception):
    """The job has been started again by someone else meanwhile."""


@dataclass
class StoredOutcome:
    """What a background check or import found, as the preview shows an `ImportOutcome`:
    the counts of all rows, the rows that cannot be read, the result of the first rows."""

    totals: dict
    failed: list[RowOutcome]
    rows: list[RowOutcome] = field(default_factory=list)

    def counts(self):
        """The number of rows for each action, as `ImportOutcome.counts`."""
        return self.totals

    @classmethod
    def of(cls, result):
        def outcome(number, action, errors):
            return RowOutcome(number, action, errors=errors)

        return cls(result["counts"], [outcome(n, "failed", e) for n, e in result["failed"]],
                   [outcome(*row) for row in result["rows"]])


def is_running(upload):
    """Whether a job of `upload` runs and has been heard of lately."""
    return upload.job_state == JobState.RUNNING and upload.job_seen_at is not None and \
        upload.job_seen_at > utcnow() - STALLED_AFTER


def is_stalled(upload):
    """Whether a job of `upload` was running and has not been heard of for too long."""
    return upload.job_state == JobState.RUNNING and not is_running(upload)


def outcome(upload, mapping, job=None):
    """What the upload's last job (or last `job`) found, if it ran with `mapping` and got
    through the rows (a failed import keeps what stopped it), else None."""
    options, result = upload.job_options or {}, upload.job_result or {}
    through = upload.job_state == JobState.DONE or result.get("problem") == "unreadable"
    if not through or (job is not None and upload.job != job) or "counts" not in result or \
            options.get("mapping") != {str(index): name for index, name in mapping.items()}:
        return None
    return StoredOutcome.of(result)


def start(upload, mapping, *, job, actor, skip_invalid=False):
    """Start checking or importing (`Job`) `upload` with `mapping` in a thread of its own,
    the user's language kept for its messages; refused while a job of the upload runs. The
    claim is committed at once (the thread reads it). Returns the thread."""
    total = len(read_table(upload.filename, upload.data).rows)
    token = secrets.token_hex(8)
    options = {"mapping": {str(index): name for index, name in mapping.items()},
               "skip_invalid": skip_invalid, "locale": str(get_locale()), "total": total,
               "token": token}
    now = utcnow()
    claimed = db.session.execute(
        sa.update(ImportUpload)
        .where(ImportUpload.id == upload.id,
               sa.or_(ImportUpload.job_state.is_(None),
                      ImportUpload.job_state != JobState.RUNNING,
                      ImportUpload.job_seen_at <= now - STALLED_AFTER))
        .values(job=job, job_state=JobState.RUNNING, rows_done=0, job_result=None,
                job_options=options, job_seen_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        raise ValidationError(_l("This file is being worked on; wait until it is done."))
    thread = threading.Thread(target=_run, name=f"import-{upload.id}", daemon=True,
                              args=(current_app._get_current_object(), upload.id, actor.id,
                                    token))
    thread.start()
    return thread


def give_up(upload, *, actor):
    """A stalled job (its process ended) is given up: claimed in one conditional UPDATE (its
    thread, should it live after all, then stops unsaved at its next part), a partial import
    undone, and the page says it was interrupted. Nothing happens if the job has moved on."""
    options = {**(upload.job_options or {}), "token": None}
    claimed = db.session.execute(
        sa.update(ImportUpload)
        .where(ImportUpload.id == upload.id, ImportUpload.job_state == JobState.RUNNING,
               ImportUpload.job_seen_at <= utcnow() - STALLED_AFTER)
        .values(job_state=JobState.FAILED, job_options=options)
        .execution_options(synchronize_session=False))
    db.session.refresh(upload)
    if claimed.rowcount != 1:
        return
    result = {**(upload.job_result or {}), "problem": "interrupted"}
    if result.get("import_id") and not _undo(result["import_id"], actor):
        result["problem"] = "changed_since"
    upload.job_result = result


def still_running(contact_import):
    """Whether the background job that makes `contact_import` still runs (else an import left
    `in_progress` by a job that ended may be undone)."""
    return any((upload.job_result or {}).get("import_id") == contact_import.id
               for upload in db.session.scalars(sa.select(ImportUpload).where(
                   ImportUpload.job_state == JobState.RUNNING))
               if is_running(upload))


def _run(app, upload_id, user_id, token):
    with app.app_context():
        upload = db.session.get(ImportUpload, upload_id)
        if upload is None:
            return
        actor = db.session.get(User, user_id)
        try:
            with force_locale(upload.job_options["locale"]):
                _work(upload, actor, token)
        except _Superseded:
            db.session.rollback()
        except Exception as error:
            # The event deleted meanwhile is refused by the next part; anything else is a bug.
            gone = isinstance(error, ValidationError) and "event_id" in (error.fields or {})
            if not gone:
                log.exception("The background %s of upload %s failed", upload.job, upload_id)
            db.session.rollback()
            try:
                _stop(upload, actor, token, {**(upload.job_result or {}),
                                             "problem": "event_gone" if gone else "error"})
            except Exception:
                log.exception("Upload %s could not be marked as failed", upload_id)
                db.session.rollback()
        finally:
            db.session.remove()


def _work(upload, actor, token):
    table = read_table(upload.filename, upload.data)
    options = upload.job_options
    mapping = {int(index): name for index, name in options["mapping"].items()}
    event = upload.event if upload.event is not None and not upload.event.is_deleted else None
    importing = upload.job == Job.IMPORT
    if upload.event is not None and event is None:
        return _stop(upload, actor, token, {"problem": "event_gone"})
    numbered = list(table.numbered())
    counts, failed, shown, done = dict.fromkeys(ACTIONS, 0), [], [], None
    for offset in range(0, len(numbered), PART_ROWS):
        part = numbered[offset:offset + PART_ROWS]
        outcome_ = import_contacts(
            RawTable(header=table.header, rows=[row for _, row in part],
                     numbers=[number for number, _ in part]),
            mapping, actor=actor, filename=upload.filename, event=event, status=upload.status,
            contact_import=done)
        for action, count in outcome_.counts().items():
            counts[action] += count
        failed += [[row.number, row.errors] for row in outcome_.failed]
        shown += [[row.number, row.action, row.errors]
                  for row in outcome_.rows[:SHOWN_ROWS - len(shown)]]
        result = {"counts": counts, "failed": failed, "rows": shown}
        if importing and outcome_.failed and not options["skip_invalid"]:
            db.session.rollback()
            return _stop(upload, actor, token, {**result, "problem": "unreadable",
                                                "import_id": getattr(done, "id", None)})
        if importing:
            done = outcome_.contact_import
            done.counts, done.in_progress = dict(counts), True
            result["import_id"] = done.id
        else:
            db.session.rollback()
        _check_token(upload, token)
        upload.rows_done, upload.job_seen_at = offset + len(part), utcnow()
        upload.job_result = result
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            time.sleep(SQLITE_PAUSE_SECONDS)
    if done is not None:
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "contacts.import", AuditEntry.record_type == "contact_imports",
            AuditEntry.record_id == done.id))
        record_counts(entry, done, counts)
        done.in_progress = False
    _check_token(upload, token)
    upload.job_state, upload.job_seen_at = JobState.DONE, utcnow()
    db.session.commit()


def _check_token(upload, token):
    """Refuse to go on once the job has been started again or given up by someone else; the
    upload's row stays locked (PostgreSQL) until the part is committed, so that nobody does
    so in between. (On SQLite the part's writes hold the one write lock already.)"""
    current = db.session.scalar(sa.select(ImportUpload.job_options).where(
        ImportUpload.id == upload.id).with_for_update())
    if (current or {}).get("token") != token:
        raise _Superseded


def _stop(upload, actor, token, result):
    """A job that does not get through: a partial import is undone as a whole, and the upload
    says why (`PROBLEMS`)."""
    _check_token(upload, token)
    if result.get("import_id") and not _undo(result["import_id"], actor):
        result = {**result, "problem": "changed_since"}
    upload.job_state, upload.job_result, upload.job_seen_at = JobState.FAILED, result, utcnow()
    db.session.commit()


def _undo(import_id, actor):
    """Undo the import `import_id` of a job; False (and nothing undone) when its people have
    been changed since."""
    done = db.session.get(ContactImport, import_id)
    if done is None or done.undone_at is not None:
        return True
    done.in_progress = False
    # Written first: on SQLite (pysqlite) a SAVEPOINT that opened the transaction would
    # commit when released.
    db.session.flush()
    try:
        with db.session.begin_nested():
            undo_import(done, actor=actor)
    except ValidationError:
        return False
    return True
