"""Saved views: save a list's filters and sorting under a name, list and remove them."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, require
from crm.core.forms import run_service
from crm.core.services import NotFoundError
from crm.extensions import db
from crm.saved_views import services
from crm.saved_views.forms import SavedViewForm
from crm.saved_views.models import LISTS

bp = Blueprint("saved_views", __name__)


def view_url(view):
    """Where a saved view leads: its list with its query string."""
    return url_for(view.endpoint) + (f"?{view.query}" if view.query else "")


@bp.app_template_global()
def saved_views():
    """The signed-in user's views, for the navigation: one query per page, kept for it."""
    if "saved_views" not in g:
        g.saved_views = db.session.scalars(services.views_of(current_user)).all()
    return g.saved_views


bp.add_app_template_global(view_url)


@bp.route("/saved-views")
@require(Permission.VIEW_RECORDS)
def index():
    return render_template("saved_views/index.html", views=saved_views())


@bp.route("/saved-views/new", methods=["GET", "POST"])
@require(Permission.VIEW_RECORDS)
def new():
    """Name the current filters and sorting of a list (`?list=contacts&query=...`)."""
    form = SavedViewForm()
    if not form.is_submitted():
        if request.args.get("list") not in LISTS:
            abort(404)
        form.list_name.data = request.args["list"]
        form.query.data = services.clean_query(request.args.get("query", ""))
    status = 200
    if form.validate_on_submit():
        view, status = run_service(form, lambda: services.save_view(
            current_user, {"list_name": form.list_name.data, "name": form.name.data,
                           "query": form.query.data}, actor=current_user))
        if view is not None:
            db.session.commit()
            flash(_("The view “%(name)s” is saved; you find it under “Views”.", name=view.name),
                  "success")
            return redirect(view_url(view))
    elif form.is_submitted():
        status = 422
    if form.list_name.data not in LISTS:
        abort(404)
    return render_template("saved_views/new.html", form=form,
                           list_label=LISTS[form.list_name.data][1]), status


@bp.post("/saved-views/<id:view_id>/delete")
@require(Permission.VIEW_RECORDS)
def delete(view_id):
    try:
        view = services.get_own_view(current_user, view_id)
    except NotFoundError:
        abort(404)
    name = view.name
    services.delete_view(view, actor=current_user)
    db.session.commit()
    flash(_("The view “%(name)s” is removed.", name=name), "success")
    return redirect(url_for("saved_views.index"))
