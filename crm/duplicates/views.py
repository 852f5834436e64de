"""Likely duplicates, the merge screen that picks each field's value, and the merges an admin
can undo."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from crm.auth.permissions import Permission, require
from crm.core.formatting import format_day
from crm.core.lists import page_args, paginate
from crm.core.services import ValidationError
from crm.core.validation import Checker
from crm.duplicates import queries, services
from crm.duplicates.models import DistinctPair, Merge
from crm.extensions import db

bp = Blueprint("duplicates", __name__)
REASON_LABELS = {"name": _l("same name"), "email": _l("same email address"),
                 "organisation": _l("same organisation")}
LABELS = {
    "academic_title": _l("Academic title"), "first_name": _l("First name"),
    "last_name": _l("Last name"), "latin_name": _l("Latin spelling"),
    "position": _l("Position"), "email": _l("Email address"), "phone": _l("Phone"),
    "mobile": _l("Mobile"), "language": _l("Preferred language"), "owner_id": _l("Owner"),
    "legal_basis": _l("Legal basis"), "source": _l("Source"), "informed_on": _l("Informed on"),
    "marketing_consent": _l("Marketing consent"), "name": _l("Name"), "kind": _l("Kind"),
    "country": _l("Country"), "city": _l("City"), "address": _l("Address"),
    "website": _l("Website"), "description": _l("Description"),
    "parent_id": _l("Part of (parent organisation)"),
}
DETAIL = {"contacts": ("contacts.detail", "contact_id"),
          "organisations": ("organisations.detail", "organisation_id")}


@bp.route("/duplicates")
@require(Permission.EDIT_RECORDS)
def index():
    return _index_page()


def _index_page():
    return render_template("duplicates/index.html", contacts=queries.contact_groups(),
                           organisations=queries.organisation_groups(),
                           reason_labels=REASON_LABELS, limit=queries.MAX_GROUPS)


@bp.route("/duplicates/<any(contacts, organisations):record_type>/<id:kept_id>/<id:other_id>",
          methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def merge(record_type, kept_id, other_id):
    """Both records side by side, a choice for each field where they differ; then the merge."""
    model, fields = services.KINDS[record_type][:2]
    kept, other = db.session.get(model, kept_id), db.session.get(model, other_id)
    if kept_id == other_id or kept is None or other is None or kept.is_deleted:
        abort(404)
    if other.is_deleted:
        if not _merged(record_type, kept_id, other_id):
            abort(404)
        # The same merge sent twice (a second click, the back button): it is done.
        flash(_("“%(other)s” is merged into “%(kept)s” already.", other=str(other),
                kept=str(kept)), "info")
        endpoint, argument = DETAIL[record_type]
        return redirect(url_for(endpoint, **{argument: kept.id}), 303)
    shown = [name for name in fields if name != "do_not_contact"]
    status, problems = 200, {}
    if request.method == "POST":
        choices = {name: request.form.get(f"field-{name}", "kept") for name in shown}
        try:
            services.merge(record_type, kept, other, choices, actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            status, problems = 422, error.fields or {"": [error.message]}
            kept, other = db.session.get(model, kept_id), db.session.get(model, other_id)
        else:
            db.session.commit()
            flash(_("“%(other)s” is merged into “%(kept)s”. An admin can undo the merge under "
                    "Admin → Merges.", other=str(other), kept=str(kept)), "success")
            endpoint, argument = DETAIL[record_type]
            return redirect(url_for(endpoint, **{argument: kept.id}), 303)
    return render_template("duplicates/merge.html", record_type=record_type, kept=kept,
                           other=other, fields=shown, labels=LABELS, problems=problems,
                           display=_display), status


@bp.post("/duplicates/<any(contacts, organisations):record_type>/<id:record_id>/distinct")
@require(Permission.EDIT_RECORDS)
def distinct(record_type, record_id):
    """Mark a record offered as a likely duplicate as not the same as the others of its
    group (`others`: their ids)."""
    model = services.KINDS[record_type][0]
    record_ = db.session.get(model, record_id)
    if record_ is None:
        abort(404)
    ids = Checker({"others": request.form.getlist("others")}).record_ids("others")
    others = db.session.scalars(sa.select(model).where(model.id.in_(ids))).all()
    if len(others) != len(ids):
        abort(404)
    try:
        services.mark_distinct(record_type, record_, others, actor=current_user)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _index_page(), 422
    except IntegrityError:
        db.session.rollback()  # the same marks sent twice at once: the other request made them
    flash(_("“%(name)s” is marked as not the same as the others found alike; they are no "
            "longer offered for merging.", name=str(record_)), "success")
    return redirect(url_for("duplicates.index"), 303)


@bp.route("/duplicates/distinct")
@require(Permission.EDIT_RECORDS)
def distinct_pairs():
    """The pairs marked as not one, newest first, each to be offered again."""
    query = (sa.select(DistinctPair).options(joinedload(DistinctPair.user))
             .order_by(DistinctPair.created_at.desc(), DistinctPair.id.desc()))
    page, per_page = page_args()
    pairs = paginate(query, page, per_page)
    records = {}
    for record_type, (model, *_rest) in services.KINDS.items():
        ids = {i for pair in pairs.items if pair.record_type == record_type
               for i in (pair.first_id, pair.second_id)}
        records[record_type] = {r.id: r for r in db.session.scalars(
            sa.select(model).where(model.id.in_(ids)))}
    return render_template("duplicates/distinct.html", pairs=pairs, records=records,
                           detail=DETAIL)


@bp.post("/duplicates/distinct/<id:pair_id>/undo")
@require(Permission.EDIT_RECORDS)
def undo_distinct(pair_id):
    pair = db.session.get(DistinctPair, pair_id)
    if pair is None:
        abort(404)
    services.unmark_distinct(pair, actor=current_user)
    db.session.commit()
    flash(_("The pair is offered as likely duplicates again."), "success")
    return redirect(url_for("duplicates.distinct_pairs"), 303)


@bp.route("/admin/merges")
@require(Permission.RESTORE_RECORDS)
def merges():
    query = (sa.select(Merge).options(joinedload(Merge.user), joinedload(Merge.undone_by))
             .order_by(Merge.created_at.desc(), Merge.id.desc()))
    page, per_page = page_args()
    return render_template("duplicates/merges.html", merges=paginate(query, page, per_page),
                           detail=DETAIL)


@bp.post("/admin/merges/<id:merge_id>/undo")
@require(Permission.RESTORE_RECORDS)
def undo(merge_id):
    done = db.session.get(Merge, merge_id)
    if done is None:
        abort(404)
    try:
        kept, other = services.undo_merge(done, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("The merge is undone: “%(kept)s” and “%(other)s” are two records again.",
                kept=str(kept), other=str(other)), "success")
    return redirect(url_for("duplicates.merges"), 303)


def _merged(record_type, kept_id, other_id):
    return db.session.scalar(sa.select(sa.exists().where(
        Merge.record_type == record_type, Merge.kept_id == kept_id,
        Merge.other_id == other_id, Merge.undone_at.is_(None))))


def _display(record_, name):
    """A field's value as a person reads it."""
    value = getattr(record_, name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "owner_id":
        return record_.owner.name if record_.owner else ""
    if name == "parent_id":
        return record_.parent.name if getattr(record_, "parent", None) else f"#{value}"
    if name == "legal_basis":
        return record_.legal_basis_enum.label
    if name == "kind":
        return record_.kind_enum.label
    if name == "informed_on":
        return format_day(value)
    return value
