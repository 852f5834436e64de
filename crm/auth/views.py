"""Signing in and out, one's own account, and the admin pages for users."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from crm.audit import queries as audit_queries
from crm.auth import (
    queries,
    ratelimit,  # noqa: F401  (registers the lotse-db:// storage)
    services,
)
from crm.auth.forms import (
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from crm.auth.models import ApiToken, Role, User
from crm.auth.permissions import Permission, can_revoke_token, public, require
from crm.core.access import is_public
from crm.core.forms import apply_errors, is_safe_redirect, run_service
from crm.core.lists import choice_arg, page_args, paginate, sort_arg, text_arg
from crm.core.services import ValidationError
from crm.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)

# Endpoints a user who must replace a one-time password may still reach.
ALLOWED_BEFORE_PASSWORD_CHANGE = {"auth.password", "auth.logout", "auth.set_language"}


@bp.before_app_request
def require_login():
    """Every page needs a valid, unexpired session unless its view is marked `@public`.

    The API authenticates with tokens in its own blueprint; 404s are left to the error page.
    """
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or request.blueprint == "api":
        return None
    public_view = is_public(current_app.view_functions.get(endpoint))
    if current_user.is_authenticated:
        if _session_expired():
            # Also on the open pages: an expired session must not change the account.
            logout_user()
            session.clear()
            if not public_view:
                flash(_("Your session has expired. Please log in again."), "info")
                return redirect(url_for("auth.login", next=_current_path()))
            return None
        session["seen_at"] = _now_ts()
    if public_view:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and endpoint not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        flash(_("Please choose your own password before you go on."), "info")
        return redirect(url_for("auth.password"))
    return None


def _now_ts():
    return int(datetime.now(UTC).timestamp())


def _session_expired():
    now = _now_ts()
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return True
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    return now - login_at > absolute or now - seen_at > idle


def _current_path():
    return request.full_path.rstrip("?") if request.method == "GET" else None


def _start_session(user):
    """A fresh session for `user`: nothing of the anonymous session is carried over."""
    session.clear()
    login_user(user)
    session.permanent = True
    session["login_at"] = session["seen_at"] = _now_ts()


def _next_url(default_endpoint="activities.home"):
    target = request.args.get("next")
    return target if is_safe_redirect(target) else url_for(default_endpoint)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit():
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key():
    """The account a login attempt names, as typed: known or not, it is counted the same, so
    the answer never tells whether an account exists."""
    return "account:" + request.form.get("email", "").strip().casefold()[:254]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is None:
            form.form_errors.append(_("The email address or the password is not correct."))
            return render_template("auth/login.html", form=form), 401
        _start_session(user)
        return redirect(_next_url())
    return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200


@bp.post("/logout")
def logout():
    user = current_user._get_current_object()
    services.log_out(user)
    db.session.commit()
    logout_user()
    session.clear()
    session["language"] = user.language  # the login page stays in the user's language
    flash(_("You have been logged out on all your devices."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def set_language():
    """Switch the interface language: for the account, or before login for this browser."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            services.set_language(current_user._get_current_object(), form.language.data,
                                  actor=current_user)
            db.session.commit()
        else:
            session["language"] = form.language.data
    else:
        flash(_("This language is not available."), "danger")
    return redirect(_next_url())


@bp.route("/account")
def account():
    return _account_page()


def _account_page(status=200, **context):
    user = current_user._get_current_object()
    context.setdefault("token_form", TokenForm())
    return render_template("auth/account.html", form=LanguageForm(language=user.language),
                           tokens=db.session.scalars(queries.tokens_of(user)).all(),
                           **context), status


@bp.post("/account/tokens")
def token_create():
    """A new API token of one's own, shown this once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _account_page(422, token_form=form)
    user = current_user._get_current_object()
    created, status = run_service(form, lambda: services.create_token(
        user, name=form.name.data, actor=user, read_only=form.read_only.data))
    if status is not None:
        return _account_page(status, token_form=form)
    db.session.commit()
    token, plaintext = created
    return _account_page(new_token=token, plaintext=plaintext, token_form=TokenForm(formdata=None))


@bp.post("/account/tokens/<id:token_id>/revoke")
def own_token_revoke(token_id):
    """Revoke one of one's own tokens (someone else's is not found)."""
    token = db.first_or_404(sa.select(ApiToken).where(ApiToken.id == token_id,
                                                      ApiToken.user_id == current_user.id))
    services.revoke_token(token, actor=current_user)
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.account", _anchor="tokens"))


@bp.post("/account/calendar")
def calendar():
    """Switch the private calendar feed on (or give it a new address), or off."""
    user = current_user._get_current_object()
    if request.form.get("action") == "disable":
        services.disable_calendar(user, actor=user)
        db.session.commit()
        flash(_("Your calendar address no longer works."), "success")
        return redirect(url_for("auth.account"))
    secret = services.enable_calendar(user, actor=user)
    db.session.commit()
    address = url_for("activities.calendar", secret=secret, _external=True)
    return _account_page(calendar_address=address)


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, current_password=form.current_password.data,
                                     new_password=form.new_password.data, actor=user)
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            _start_session(user)  # this session goes on; every other one has ended
            flash(_("Your password has been changed. Your other sessions have ended."), "success")
            return redirect(url_for("activities.home"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


# Admin pages: users.


@bp.route("/admin/users")
@require(Permission.MANAGE_USERS)
def users():
    sort, descending = sort_arg(queries.USER_SORTS, "name")
    page, per_page = page_args()
    q = text_arg("q")
    role = choice_arg("role", [r.value for r in Role])
    status = choice_arg("status", queries.USER_STATUSES)
    query = queries.user_list(q=q, role=role, status=status, sort=sort, descending=descending)
    return render_template("auth/users.html", pagination=paginate(query, page, per_page),
                           q=q, role=role, status=status, roles=Role)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user, one_time = services.create_user(
                email=form.email.data, name=form.name.data, role=form.role.data,
                language=form.language.data, actor=current_user,
            )
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            return render_template("auth/one_time_password.html", user=user, password=one_time,
                                   created=True)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<id:user_id>")
@require(Permission.MANAGE_USERS)
def user_detail(user_id, error=None, status=200):
    user = db.get_or_404(User, user_id)
    tokens = db.session.scalars(queries.tokens_of(user)).all()
    entries = db.session.scalars(audit_queries.history(user)).all()
    return render_template("auth/user_detail.html", user=user, tokens=tokens, entries=entries,
                           error=error), status


@bp.route("/admin/users/<id:user_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    status = 200
    if form.validate_on_submit():
        _updated, status = run_service(form, lambda: services.update_user(
            user, actor=current_user, expected_version=form.version.data,
            email=form.email.data, name=form.name.data, role=form.role.data,
            language=form.language.data), record=user)
        if status is None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("auth.user_detail", user_id=user.id))
    elif form.is_submitted():
        status = 422
    return render_template("auth/user_form.html", form=form, user=user), status


@bp.post("/admin/users/<id:user_id>/deactivate")
@require(Permission.MANAGE_USERS)
def user_deactivate(user_id):
    return _user_action(user_id, services.deactivate_user, _("The account has been deactivated."))


@bp.post("/admin/users/<id:user_id>/reactivate")
@require(Permission.MANAGE_USERS)
def user_reactivate(user_id):
    return _user_action(user_id, services.reactivate_user, _("The account is active again."))


@bp.post("/admin/users/<id:user_id>/reset-password")
@require(Permission.MANAGE_USERS)
def user_reset_password(user_id):
    user = db.get_or_404(User, user_id)
    password = services.reset_password(user, actor=current_user)
    db.session.commit()
    return render_template("auth/one_time_password.html", user=user, password=password,
                           created=False)


@bp.post("/admin/users/<id:user_id>/tokens/<id:token_id>/revoke")
@require(Permission.MANAGE_USERS)
def token_revoke(user_id, token_id):
    token = db.first_or_404(sa.select(ApiToken).where(ApiToken.id == token_id,
                                                      ApiToken.user_id == user_id))
    if not can_revoke_token(current_user, token):
        abort(403)
    services.revoke_token(token, actor=current_user)
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.user_detail", user_id=user_id))


def _user_action(user_id, action, done_message):
    user = db.get_or_404(User, user_id)
    try:
        action(user, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        return user_detail(user_id, error=str(error.message), status=422)
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))
