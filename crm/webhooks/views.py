"""The admin pages of webhooks: the list, registering, changing and removing one, its secret,
and its deliveries with their outcome."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, require
from crm.core.forms import run_service
from crm.core.lists import page_args, paginate
from crm.core.services import NotFoundError, ValidationError
from crm.extensions import db
from crm.webhooks import queries, services
from crm.webhooks.forms import WebhookEditForm, WebhookForm

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


def _webhook_or_404(webhook_id):
    try:
        return services.get_webhook(webhook_id)
    except NotFoundError:
        abort(404)


@bp.route("")
@require(Permission.MANAGE_WEBHOOKS)
def index():
    page, per_page = page_args()
    return render_template("webhooks/index.html",
                           pagination=paginate(queries.webhook_list(), page, per_page))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def new():
    form = WebhookForm()
    if form.validate_on_submit():
        created, status = run_service(form, lambda: services.create_webhook(
            form.service_data(), actor=current_user))
        if status is None:
            db.session.commit()
            webhook, secret = created
            return render_template("webhooks/secret.html", webhook=webhook, secret=secret,
                                   created=True)
        return render_template("webhooks/form.html", form=form, webhook=None), status
    status = 422 if form.is_submitted() else 200
    return render_template("webhooks/form.html", form=form, webhook=None), status


@bp.route("/<id:webhook_id>")
@require(Permission.MANAGE_WEBHOOKS)
def detail(webhook_id, error=None, status=200):
    webhook = _webhook_or_404(webhook_id)
    page, per_page = page_args()
    deliveries = paginate(queries.deliveries_of(webhook), page, per_page)
    return render_template("webhooks/detail.html", webhook=webhook, pagination=deliveries,
                           error=error), status


@bp.route("/<id:webhook_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def edit(webhook_id):
    webhook = _webhook_or_404(webhook_id)
    form = WebhookEditForm(obj=webhook)
    status = 200
    if form.validate_on_submit():
        _updated, status = run_service(form, lambda: services.update_webhook(
            webhook, form.service_data(), actor=current_user,
            expected_version=form.version.data), record=webhook)
        if status is None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("webhooks.detail", webhook_id=webhook.id))
    elif form.is_submitted():
        status = 422
    return render_template("webhooks/form.html", form=form, webhook=webhook), status


@bp.post("/<id:webhook_id>/delete")
@require(Permission.MANAGE_WEBHOOKS)
def delete(webhook_id):
    webhook = _webhook_or_404(webhook_id)
    services.delete_webhook(webhook, actor=current_user)
    db.session.commit()
    flash(_("The webhook has been removed."), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<id:webhook_id>/secret")
@require(Permission.MANAGE_WEBHOOKS)
def secret(webhook_id):
    """A new secret, shown this once; the old one stops signing at once."""
    webhook = _webhook_or_404(webhook_id)
    new_secret = services.regenerate_secret(webhook, actor=current_user)
    db.session.commit()
    return render_template("webhooks/secret.html", webhook=webhook, secret=new_secret,
                           created=False)


@bp.post("/<id:webhook_id>/deliveries/<id:delivery_id>/resend")
@require(Permission.MANAGE_WEBHOOKS)
def resend(webhook_id, delivery_id):
    webhook = _webhook_or_404(webhook_id)
    try:
        delivery = services.get_delivery(webhook, delivery_id)
        services.resend_delivery(delivery, actor=current_user)
    except NotFoundError:
        abort(404)
    except ValidationError as error:
        db.session.rollback()
        return detail(webhook_id, error=str(error.message), status=422)
    db.session.commit()
    flash(_("The delivery is being sent again."), "success")
    return redirect(url_for("webhooks.detail", webhook_id=webhook_id))
