"""Lotse: the contact and investor CRM of a regional investment promotion agency."""

from pathlib import Path

from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix

import crm.models  # noqa: F401  (all models first: see crm/models.py)
from config import load_config
from crm.activities import cli as activities_cli
from crm.activities.views import bp as activities_bp
from crm.api import throttle as api_throttle
from crm.api.views import bp as api_bp
from crm.audit.views import bp as audit_bp
from crm.auth import cli as auth_cli
from crm.auth.permissions import Permission, has_permission
from crm.auth.services import load_session_user
from crm.auth.views import bp as auth_bp
from crm.contacts.views import bp as contacts_bp
from crm.core import cli as core_cli
from crm.core.database import configure_engine, end_session
from crm.core.errors import register_error_handlers
from crm.core.fulltext import compared_with_models
from crm.core.i18n import N_, select_locale, select_timezone
from crm.core.json_provider import JSONProvider
from crm.core.routing import IdConverter
from crm.core.security import reject_unreadable_input, set_security_headers
from crm.core.templating import register_template_helpers
from crm.core.views import bp as core_bp
from crm.demo import cli as demo_cli
from crm.duplicates.views import bp as duplicates_bp
from crm.events.views import bp as events_bp
from crm.extensions import babel, csrf, db, limiter, login_manager, migrate
from crm.imports import cli as imports_cli
from crm.imports.views import bp as imports_bp
from crm.leads.views import bp as leads_bp
from crm.organisations.views import bp as organisations_bp
from crm.privacy.views import bp as privacy_bp
from crm.reports.views import bp as reports_bp
from crm.saved_views.views import bp as saved_views_bp
from crm.search.views import bp as search_bp
from crm.webhooks import cli as webhooks_cli
from crm.webhooks import outbox as webhooks_outbox
from crm.webhooks.views import bp as webhooks_bp

ROOT = Path(__file__).resolve().parent.parent

BLUEPRINTS = (core_bp, auth_bp, audit_bp, activities_bp, organisations_bp, contacts_bp,
              duplicates_bp, events_bp, imports_bp, leads_bp, privacy_bp, reports_bp,
              saved_views_bp, search_bp, webhooks_bp, api_bp)

COMMANDS = (auth_cli.create_user, auth_cli.create_token, auth_cli.list_tokens,
            auth_cli.revoke_token, auth_cli.reset_password, auth_cli.one_time_login,
            demo_cli.seed_demo, demo_cli.generate_command, activities_cli.send_reminders_command, core_cli.backup_command,
            imports_cli.import_command, webhooks_cli.deliver_webhooks_command)


def create_app(config=None, instance_path=None):
    """The application, configured from the environment and then from `config` (for tests)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=instance_path)
    app.json = JSONProvider(app)
    app.config.update(load_config(app.instance_path))
    app.config.update(config or {})
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_templates(app)
    register_cli(app)
    return app


def register_extensions(app):
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    app.teardown_appcontext(end_session)  # runs before Flask-SQLAlchemy's own (reverse order)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     include_object=compared_with_models)
    login_manager.init_app(app)
    login_manager.user_loader(load_session_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to open this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    api_throttle.init_app(app)
    webhooks_outbox.watch()  # a lead's changes become its webhooks' messages


def register_blueprints(app):
    app.url_map.converters["id"] = IdConverter
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API takes bearer tokens, never cookies


def register_request_hooks(app):
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        # Behind a reverse proxy: the client's address and scheme come from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.before_request(reject_unreadable_input)
    app.after_request(set_security_headers)


def register_templates(app):
    register_template_helpers(app, {"Permission": Permission, "has_permission": has_permission})


def register_cli(app):
    group = AppGroup("crm", help="Lotse's own commands.")
    for command in COMMANDS:
        group.add_command(command)
    app.cli.add_command(group)
