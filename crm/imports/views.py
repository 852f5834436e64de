"""Importing a list of people in the browser: upload, check the columns and every row in a
preview, then import (or download the rows that cannot be read)."""

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from crm.auth.permissions import Permission, has_permission, require
from crm.core.exports import neutralise
from crm.core.lists import page_args, paginate
from crm.core.models import utcnow
from crm.core.services import ValidationError
from crm.core.validation import Checker
from crm.events import queries as event_queries
from crm.events.models import AttendanceStatus, Event
from crm.extensions import db
from crm.imports import jobs
from crm.imports.forms import UploadForm
from crm.imports.models import ContactImport, ImportUpload, Job, JobState
from crm.imports.reading import HEADER_NAMES, MAX_BROWSER_ROWS, guess_mapping, read_table
from crm.imports.services import import_contacts, undo_import

bp = Blueprint("imports", __name__)

PREVIEW_ROWS = 100
UPLOADS_KEPT = timedelta(days=1)
FIELD_LABELS = {
    "first_name": _l("First name"), "last_name": _l("Last name"), "email": _l("Email address"),
    "phone": _l("Phone"), "mobile": _l("Mobile"), "organisation": _l("Organisation"),
    "position": _l("Position"), "academic_title": _l("Academic title"), "city": _l("City"),
    "country": _l("Country"), "language": _l("Preferred language"), "tags": _l("Tags"),
}
ACTION_LABELS = {"created": _l("new"), "updated": _l("updated"), "unchanged": _l("unchanged"),
                 "failed": _l("cannot be read"), "empty": _l("empty")}


@bp.route("/imports/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new():
    form = UploadForm()
    form.event_id.choices = [("", _("No event"))] + [
        (str(e.id), f"{e.name} ({e.starts_on:%d.%m.%Y})")
        for e in db.session.scalars(event_queries.recent_events())]
    form.status.choices = AttendanceStatus.choices()
    if not form.is_submitted():
        form.event_id.data = request.args.get("event", "")
        form.status.data = AttendanceStatus.MET.value
    status = 200
    if form.validate_on_submit():
        upload = _upload(form)
        if upload is not None:
            db.session.commit()
            return redirect(url_for("imports.preview", upload_id=upload.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("imports/new.html", form=form), status


def _upload(form):
    """The uploaded file kept for the preview, or None with the problem beside its field."""
    file = form.file.data
    if file is None or not getattr(file, "filename", ""):
        form.file.errors = [_("Choose a file.")]
        return None
    data = file.read()
    try:
        table = read_table(file.filename, data)  # refused now, not at the preview
    except ValidationError as error:
        form.file.errors = [str(error.message)]
        return None
    if len(table.rows) > MAX_BROWSER_ROWS:
        form.file.errors = [_("The file has more than %(n)s rows: import it with the command "
                              "“flask crm import” (see the README).",
                              n=format_decimal(MAX_BROWSER_ROWS))]
        return None
    check = Checker({"event_id": form.event_id.data, "status": form.status.data})
    event_id = check.record_id("event_id") if form.event_id.data else None
    event = db.session.get(Event, event_id) if event_id else None
    if form.event_id.data and (event is None or event.is_deleted):
        form.event_id.errors = [_("Choose an event from the list.")]
        return None
    status = check.choice("status", [s.value for s in AttendanceStatus])
    if check.errors:
        form.status.errors = [_("Choose one of the offered values.")]
        return None
    # Files never imported are not kept: uploads older than a day go with each new one.
    db.session.execute(sa.delete(ImportUpload).where(
        ImportUpload.created_at < utcnow() - UPLOADS_KEPT,
        sa.or_(ImportUpload.job_state.is_(None), ImportUpload.job_state != JobState.RUNNING,
               ImportUpload.job_seen_at < utcnow() - jobs.STALLED_AFTER)))
    upload = ImportUpload(user_id=current_user.id, filename=file.filename[:255], data=data,
                          event_id=event.id if event else None, status=status)
    db.session.add(upload)
    db.session.flush()
    return upload


def _own_upload(upload_id):
    upload = db.session.get(ImportUpload, upload_id)
    if upload is None or upload.user_id != current_user.id:
        abort(404)
    return upload


def _mapping(table, source):
    """{column index: field} from `col<i>` values in `source`, or guessed from the header;
    a field chosen for two columns counts once (the first)."""
    if not any(key.startswith("col") for key in source):
        return guess_mapping(table.header)
    mapping, taken = {}, set()
    for index in range(len(table.header)):
        name = source.get(f"col{index}", "")
        if name in FIELD_LABELS and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def _try(upload, table, mapping):
    """What the import would do with every row, saving nothing (an event deleted meanwhile
    is left out: the preview says so, and the import is refused)."""
    event = upload.event if upload.event is not None and not upload.event.is_deleted else None
    outcome = import_contacts(table, mapping, actor=current_user, filename=upload.filename,
                              event=event, status=upload.status)
    db.session.rollback()
    return outcome


@bp.route("/imports/<id:upload_id>", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def preview(upload_id):
    """The columns as mapped (to correct), and what becomes of each row; importing is a
    POST of the same mapping. A large file is checked and imported in the background."""
    upload = _own_upload(upload_id)
    table = read_table(upload.filename, upload.data)
    source = request.form if request.method == "POST" else request.args
    mapping = _mapping(table, source)
    named = set(mapping.values()) & {"first_name", "last_name", "email"}
    status, outcome = 200, None
    event_gone = upload.event is not None and upload.event.is_deleted
    if event_gone:
        flash(_("The event has been deleted; upload the file again with another one, or none."),
              "danger")
        named = set()  # nothing is tried or imported
    if len(table.rows) > jobs.LARGE_FILE_ROWS:
        return _large_preview(upload, table, mapping, named, event_gone)
    if request.method == "POST" and request.form.get("action") == "import" and named:
        skip = request.form.get("skip_invalid") == "1"
        outcome = import_contacts(table, mapping, actor=current_user, filename=upload.filename,
                                  event=upload.event, status=upload.status)
        if not outcome.failed or skip:
            return _imported(upload, outcome.counts())
        db.session.rollback()  # the outcome stays, to show what stopped the import
        upload = _own_upload(upload_id)
        status = 422
    elif named:
        outcome = _try(upload, table, mapping)
    if request.method == "POST" and not named:
        status = 422
    upload = _own_upload(upload_id)
    return _render_preview(upload, table, mapping, outcome, named, event_gone), status


def _render_preview(upload, table, mapping, outcome, named, event_gone, *, running=False):
    columns_query = _columns(mapping)
    problem = (upload.job_result or {}).get("problem") if upload.job_state == JobState.FAILED \
        else None
    return render_template(
        "imports/preview.html", upload=upload, table=table, mapping=mapping, outcome=outcome,
        columns_query=columns_query, running=running,
        large=len(table.rows) > jobs.LARGE_FILE_ROWS, problem=jobs.PROBLEMS.get(problem),
        rows=table.rows[:PREVIEW_ROWS], field_labels=FIELD_LABELS, action_labels=ACTION_LABELS,
        named=named, event_gone=event_gone,
        known=", ".join(names[0] for names in HEADER_NAMES.values()))


def _columns(mapping):
    """The mapping as the query of a page's address (`col0=first_name&...`)."""
    return urlencode({f"col{index}": name for index, name in sorted(
        (int(index), name) for index, name in mapping.items())})


def _imported(upload, counts):
    """The upload done with: gone, and the imported people shown."""
    filename, event_id = upload.filename, upload.event_id
    db.session.delete(upload)
    db.session.commit()
    flash(_("“%(file)s” imported: %(created)s new, %(updated)s updated, %(unchanged)s "
            "unchanged, %(failed)s not imported. Under “Earlier imports” it can be undone.",
            file=filename, **counts), "success")
    if event_id:
        return redirect(url_for("contacts.index", event=event_id))
    return redirect(url_for("contacts.index"))


def _large_preview(upload, table, mapping, named, event_gone):
    """The preview of a large file: "check" and "import" start a job in the background
    (`crm.imports.jobs`), whose progress the page shows until it is done."""
    action = request.form.get("action") if request.method == "POST" else None
    if jobs.is_stalled(upload):
        jobs.give_up(upload, actor=current_user)
        db.session.commit()
    if action in (Job.CHECK, Job.IMPORT) and named:
        skip = request.form.get("skip_invalid") == "1"
        checked = jobs.outcome(upload, mapping, Job.CHECK)
        if action == Job.IMPORT and (checked is None or (checked.failed and not skip)):
            flash(_("Check the rows with these columns first, and leave out those that cannot "
                    "be read."), "danger")
            return _render_preview(upload, table, mapping, checked, named, event_gone), 422
        try:
            jobs.start(upload, mapping, job=Job(action), actor=current_user,
                       skip_invalid=skip)
        except ValidationError as error:
            flash(error.message, "danger")
        return redirect(f"{url_for('imports.preview', upload_id=upload.id)}?"
                        f"{_columns(mapping)}", 303)
    if jobs.is_running(upload):
        return _render_preview(upload, table, mapping, None, named, event_gone, running=True)
    if upload.job == Job.IMPORT and upload.job_state == JobState.DONE:
        return _imported(upload, upload.job_result["counts"])
    status = 422 if request.method == "POST" else 200
    return _render_preview(upload, table, mapping, jobs.outcome(upload, mapping), named,
                           event_gone), status


@bp.route("/imports/<id:upload_id>/progress")
@require(Permission.EDIT_RECORDS)
def progress(upload_id):
    """How far the background job of a large file is (htmx asks every second); once it is
    done, the page is loaded again to show what came of it. An upload gone meanwhile (another
    tab finished the import) leads to the contacts."""
    upload = db.session.get(ImportUpload, upload_id)
    if upload is None or upload.user_id != current_user.id:
        return Response(status=404, headers={"HX-Redirect": url_for("contacts.index")})
    options = upload.job_options or {}
    if jobs.is_running(upload):
        return render_template("imports/_progress.html", upload=upload,
                               total=options.get("total", 0),
                               columns_query=_columns(options.get("mapping", {})))
    if upload.job == Job.IMPORT and upload.job_state == JobState.DONE:
        # Done with here, at once: a second poll already on its way then finds the upload
        # gone and leads to the contacts too (two loads of the preview would not both find it).
        done = _imported(upload, upload.job_result["counts"])
        return Response(status=204, headers={"HX-Redirect": done.headers["Location"]})
    preview_url = url_for("imports.preview", upload_id=upload.id)
    return Response(status=204, headers={
        "HX-Redirect": f"{preview_url}?{_columns(options.get('mapping', {}))}"})


@bp.route("/imports/<id:upload_id>/problems.csv")
@require(Permission.EDIT_RECORDS)
def problems(upload_id):
    """The rows that cannot be read, with what is wrong, as CSV for fixing them."""
    upload = _own_upload(upload_id)
    table = read_table(upload.filename, upload.data)
    mapping = _mapping(table, request.args)
    if len(table.rows) > jobs.LARGE_FILE_ROWS:
        outcome = jobs.outcome(upload, mapping)
        if outcome is None:
            abort(404)  # not checked with these columns yet
    else:
        outcome = _try(upload, table, mapping)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(str(text)) for text in (_("Row"), _("Problem"), *table.header)])
    cells = dict(table.numbered())
    for row in outcome.failed:
        problem = "; ".join(f"{FIELD_LABELS.get(name, name)}: {' '.join(messages)}"
                            for name, messages in row.errors.items())
        writer.writerow([row.number, neutralise(problem),
                         *(neutralise(cell) for cell in cells[row.number])])
    response = Response(buffer.getvalue().encode("utf-8-sig"),
                        content_type="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment", filename="lotse-import-problems.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/imports/<id:upload_id>/discard")
@require(Permission.EDIT_RECORDS)
def discard(upload_id):
    upload = _own_upload(upload_id)
    if jobs.is_stalled(upload):
        jobs.give_up(upload, actor=current_user)  # what it imported goes with it
    if jobs.is_running(upload):
        flash(_("This file is being worked on; wait until it is done."), "danger")
        return redirect(f"{url_for('imports.preview', upload_id=upload.id)}?"
                        f"{_columns((upload.job_options or {}).get('mapping', {}))}")
    db.session.delete(upload)
    db.session.commit()
    flash(_("The uploaded file is discarded."), "success")
    return redirect(url_for("contacts.index"))


@bp.route("/imports/history")
@require(Permission.EDIT_RECORDS)
def history():
    """The imports carried out, newest first, each with what it did; one can be undone."""
    query = (sa.select(ContactImport)
             .options(joinedload(ContactImport.user), joinedload(ContactImport.undone_by),
                      joinedload(ContactImport.event))
             .order_by(ContactImport.created_at.desc(), ContactImport.id.desc()))
    page, per_page = page_args()
    return render_template("imports/history.html", imports=paginate(query, page, per_page),
                           action_labels=ACTION_LABELS,
                           may_undo=lambda done: done.undone_at is None and _may_undo(done)
                           and not _still_running(done),
                           still_running=_still_running)


def _still_running(contact_import):
    return contact_import.in_progress and jobs.still_running(contact_import)


def _may_undo(contact_import):
    return (contact_import.user_id == current_user.id
            or has_permission(current_user, Permission.MANAGE_USERS))


@bp.post("/imports/history/<id:import_id>/undo")
@require(Permission.EDIT_RECORDS)
def undo(import_id):
    contact_import = db.session.get(ContactImport, import_id)
    if contact_import is None:
        abort(404)
    if not _may_undo(contact_import):
        abort(403)
    if contact_import.in_progress and not jobs.still_running(contact_import):
        contact_import.in_progress = False  # its job ended without finishing it
    try:
        removed, restored = undo_import(contact_import, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("imports.history")), 303
    db.session.commit()
    flash(_("The import of “%(file)s” is undone: %(removed)s people removed, %(restored)s "
            "restored to what they were.", file=contact_import.filename, removed=removed,
            restored=restored), "success")
    return redirect(url_for("imports.history")), 303
