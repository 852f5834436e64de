"""Every URL rule of the app, for every role: the answer must be the one in this table.

A new route fails `test_every_route_is_in_the_table` until its line is added here, so nobody
adds a page without deciding who may open it.
"""

from datetime import date

import pytest
from flask import url_for

from crm.activities import services as activity_services
from crm.auth.models import Role
from crm.auth.permissions import ROLE_PERMISSIONS, Permission, has_permission
from crm.contacts import services as contact_services
from crm.duplicates import services as duplicate_services
from crm.events import services as event_services
from crm.extensions import db
from crm.imports.models import ContactImport, ImportUpload
from crm.leads import services as lead_services
from crm.organisations import services as organisation_services
from crm.privacy import services as privacy_services
from crm.saved_views import services as saved_view_services
from crm.webhooks import services as webhook_services
from crm.webhooks.models import WebhookDelivery
from tests.conftest import log_in
from tests.factories import make_token, make_user

LOGIN = "login"  # redirected to the login page
ROLES = ("anonymous", "member", "manager", "admin")


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status):
    return {"anonymous": LOGIN, "member": status, "manager": status, "admin": status}


def admins_only(status):
    return {"anonymous": LOGIN, "member": 403, "manager": 403, "admin": status}


def managers(status):
    return {"anonymous": LOGIN, "member": 403, "manager": status, "admin": status}


def token_holders(status):
    return {"anonymous": 401, "member": status, "manager": status, "admin": status}


def token_admins(status):
    return {"anonymous": 401, "member": 403, "manager": 403, "admin": status}


EXPECTED = {
    ("static", "GET"): everyone(200),
    ("core.healthz", "GET"): everyone(200),
    ("auth.login", "GET"): {"anonymous": 200, "member": 302, "manager": 302, "admin": 302},
    ("auth.login", "POST"): {"anonymous": 422, "member": 302, "manager": 302, "admin": 302},
    ("auth.logout", "POST"): signed_in(302),
    ("auth.set_language", "POST"): everyone(302),
    ("auth.account", "GET"): signed_in(200),
    ("auth.password", "GET"): signed_in(200),
    ("auth.password", "POST"): signed_in(422),
    ("auth.users", "GET"): admins_only(200),
    ("auth.user_new", "GET"): admins_only(200),
    ("auth.user_new", "POST"): admins_only(422),
    ("auth.user_detail", "GET"): admins_only(200),
    ("auth.user_edit", "GET"): admins_only(200),
    ("auth.user_edit", "POST"): admins_only(422),
    ("auth.user_deactivate", "POST"): admins_only(302),
    ("auth.user_reactivate", "POST"): admins_only(302),
    ("auth.user_reset_password", "POST"): admins_only(200),
    ("auth.token_revoke", "POST"): admins_only(302),
    ("audit.index", "GET"): managers(200),
    ("webhooks.index", "GET"): admins_only(200),
    ("webhooks.new", "GET"): admins_only(200),
    ("webhooks.new", "POST"): admins_only(422),
    ("webhooks.detail", "GET"): admins_only(200),
    ("webhooks.edit", "GET"): admins_only(200),
    ("webhooks.edit", "POST"): admins_only(422),
    ("webhooks.delete", "POST"): admins_only(302),
    ("webhooks.secret", "POST"): admins_only(200),
    ("webhooks.resend", "POST"): admins_only(302),
    ("activities.home", "GET"): signed_in(200),
    ("activities.follow_ups", "GET"): signed_in(200),
    ("activities.follow_ups_export", "GET"): signed_in(200),
    ("activities.create", "POST"): signed_in(404),  # an empty post names no record
    ("activities.done", "POST"): signed_in(302),
    ("activities.reopen", "POST"): signed_in(302),
    # Only its author (the target user) or a manager changes an activity.
    ("activities.edit", "GET"): {"anonymous": LOGIN, "member": 403, "manager": 200, "admin": 200},
    ("activities.edit", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 422,
                                  "admin": 422},
    ("activities.delete", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 302,
                                    "admin": 302},
    ("activities.timeline", "GET"): signed_in(200),
    ("activities.calendar", "GET"): everyone(404),  # public, but only a real secret opens it
    ("auth.calendar", "POST"): signed_in(200),
    ("auth.token_create", "POST"): signed_in(422),
    ("auth.own_token_revoke", "POST"): signed_in(404),  # someone else's token
    ("events.follow_ups", "POST"): signed_in(302),
    ("leads.index", "GET"): signed_in(200),
    ("leads.export", "GET"): signed_in(200),
    ("leads.pipeline", "GET"): signed_in(200),
    ("leads.new", "GET"): signed_in(200),
    ("leads.new", "POST"): signed_in(422),
    ("leads.detail", "GET"): signed_in(200),
    # Members change only the leads they own or are on the team of (not the target's).
    ("leads.edit", "GET"): {"anonymous": LOGIN, "member": 403, "manager": 200, "admin": 200},
    ("leads.edit", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 422, "admin": 422},
    ("leads.stage", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 422, "admin": 422},
    ("leads.status", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 422, "admin": 422},
    ("leads.delete", "POST"): {"anonymous": LOGIN, "member": 403, "manager": 302, "admin": 302},
    ("leads.restore", "POST"): admins_only(302),
    ("leads.typeahead", "GET"): signed_in(200),
    # Members see the reports with their own figures only (tests/reports/test_views.py).
    ("reports.index", "GET"): signed_in(200),
    ("reports.print_results", "GET"): signed_in(200),
    ("reports.export", "GET"): signed_in(200),
    ("search.index", "GET"): signed_in(200),
    ("search.suggest", "GET"): signed_in(200),
    ("organisations.index", "GET"): signed_in(200),
    ("organisations.export", "GET"): signed_in(200),
    ("organisations.new", "GET"): signed_in(200),
    ("organisations.new", "POST"): signed_in(422),
    ("organisations.detail", "GET"): signed_in(200),
    ("organisations.edit", "GET"): signed_in(200),
    ("organisations.edit", "POST"): signed_in(422),
    ("organisations.delete", "POST"): signed_in(409),  # the target is the investor of a lead
    ("organisations.restore", "POST"): admins_only(302),
    ("organisations.typeahead", "GET"): signed_in(200),
    ("contacts.index", "GET"): signed_in(200),
    ("contacts.export", "GET"): signed_in(200),
    ("imports.new", "GET"): signed_in(200),
    ("imports.new", "POST"): signed_in(422),  # no file
    ("imports.preview", "GET"): signed_in(404),  # someone else's upload
    ("imports.preview", "POST"): signed_in(404),
    ("imports.problems", "GET"): signed_in(404),
    ("imports.progress", "GET"): signed_in(404),
    ("imports.discard", "POST"): signed_in(404),
    ("imports.history", "GET"): signed_in(200),
    ("duplicates.index", "GET"): signed_in(200),
    ("duplicates.merge", "GET"): signed_in(200),
    ("duplicates.merge", "POST"): signed_in(303),
    ("duplicates.distinct", "POST"): signed_in(422),  # no others named
    ("duplicates.distinct_pairs", "GET"): signed_in(200),
    ("duplicates.undo_distinct", "POST"): signed_in(404),  # no pair with the merge's id
    ("duplicates.merges", "GET"): admins_only(200),
    ("duplicates.undo", "POST"): admins_only(303),
    ("imports.undo", "POST"): admins_only(303),  # someone else's import
    ("contacts.vcard_download", "GET"): signed_in(200),
    ("saved_views.index", "GET"): signed_in(200),
    ("saved_views.new", "GET"): signed_in(404),  # without ?list=: no list to save a view of
    ("saved_views.new", "POST"): signed_in(404),
    ("saved_views.delete", "POST"): signed_in(404),  # someone else's view
    ("contacts.new", "GET"): signed_in(200),
    ("contacts.new", "POST"): signed_in(422),
    ("contacts.detail", "GET"): signed_in(200),
    ("contacts.edit", "GET"): signed_in(200),
    ("contacts.edit", "POST"): signed_in(422),
    ("contacts.delete", "POST"): signed_in(302),
    ("contacts.restore", "POST"): admins_only(302),
    ("contacts.affiliation_add", "POST"): signed_in(422),
    ("contacts.affiliation_remove", "POST"): signed_in(302),
    ("contacts.typeahead", "GET"): signed_in(200),
    ("activities.restore", "POST"): admins_only(302),
    ("privacy.data_report", "GET"): admins_only(200),
    ("privacy.data_report_json", "GET"): admins_only(200),
    ("privacy.erase", "POST"): admins_only(422),
    ("privacy.retention", "GET"): admins_only(200),
    ("privacy.keep", "POST"): admins_only(302),
    ("privacy.requests", "GET"): admins_only(200),
    ("privacy.requests", "POST"): admins_only(422),
    ("privacy.request_done", "POST"): admins_only(302),
    ("events.index", "GET"): signed_in(200),
    ("events.export", "GET"): signed_in(200),
    ("events.new", "GET"): signed_in(200),
    ("events.new", "POST"): signed_in(422),
    ("events.detail", "GET"): signed_in(200),
    ("events.edit", "GET"): signed_in(200),
    ("events.edit", "POST"): signed_in(422),
    ("events.delete", "POST"): signed_in(302),
    ("events.restore", "POST"): admins_only(302),
    ("events.capture", "POST"): signed_in(422),
    ("events.attendee_add", "POST"): signed_in(422),
    ("events.attendee_remove", "POST"): signed_in(302),
    ("events.typeahead", "GET"): signed_in(200),
    ("api.me", "GET"): token_holders(200),
    ("api.users", "GET"): token_holders(200),
    ("api.organisation_restore", "POST"): token_admins(200),
    ("api.contact_restore", "POST"): token_admins(200),
    ("api.event_restore", "POST"): token_admins(200),
    ("api.lead_restore", "POST"): token_admins(200),
    ("api.activity_restore", "POST"): token_admins(200),
    ("api.leads", "GET"): token_holders(200),
    ("api.leads", "POST"): token_holders(400),  # no JSON body
    ("api.lead", "GET"): token_holders(200),
    # Members change only the leads they own or are on the team of (not the target's).
    ("api.lead", "PATCH"): {"anonymous": 401, "member": 403, "manager": 400, "admin": 400},
    ("api.lead", "DELETE"): {"anonymous": 401, "member": 403, "manager": 204, "admin": 204},
    ("api.lead_stage", "POST"): {"anonymous": 401, "member": 403, "manager": 400, "admin": 400},
    ("api.pipeline_report", "GET"): token_holders(200),
    ("api.results_report", "GET"): token_holders(200),
    ("api.organisations", "GET"): token_holders(200),
    ("api.organisations", "POST"): token_holders(400),  # no JSON body
    ("api.organisation", "GET"): token_holders(200),
    ("api.organisation", "PATCH"): token_holders(400),
    ("api.organisation", "DELETE"): token_holders(409),  # the investor of a lead
    ("api.contacts", "GET"): token_holders(200),
    ("api.contacts", "POST"): token_holders(400),  # no JSON body
    ("api.contact", "GET"): token_holders(200),
    ("api.contact", "PATCH"): token_holders(400),
    ("api.contact", "DELETE"): token_holders(204),
    ("api.events", "GET"): token_holders(200),
    ("api.events", "POST"): token_holders(400),  # no JSON body
    ("api.event", "GET"): token_holders(200),
    ("api.event", "PATCH"): token_holders(400),
    ("api.event", "DELETE"): token_holders(204),
    ("api.activities", "GET"): token_holders(200),
    ("api.activities", "POST"): token_holders(400),  # no JSON body
    ("api.activity", "GET"): token_holders(200),
    # Whether a PATCH is allowed depends on its body (anyone may tick off); an empty one is 400.
    ("api.activity", "PATCH"): token_holders(400),
    # Only its author (the target user), managers and admins delete an activity.
    ("api.activity", "DELETE"): {"anonymous": 401, "member": 403, "manager": 204, "admin": 204},
    ("api.openapi", "GET"): everyone(200),
    ("api.reference", "GET"): everyone(200),
}


def routes(app):
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_table(app):
    assert routes(app) == set(EXPECTED)


def outcome(response):
    if response.status_code == 302 and response.headers["Location"].startswith("/login?next="):
        return LOGIN
    return response.status_code


def make_targets():
    """Fresh records for the URL of one request: an account with a token, an organisation, a
    contact working there, and a trip the contact attended."""
    user = make_user(name="Target of user pages")
    token, _ = make_token(user)
    organisation = organisation_services.create_organisation(
        {"name": f"Ziel GmbH {user.id}", "kind": "investor"}, actor=None)
    contact = contact_services.create_contact(
        {"last_name": "Ziel", "affiliations": [{"organisation_id": organisation.id}]}, actor=None)
    event = event_services.create_event(
        {"name": "Reise", "kind": "trip", "starts_on": "2025-05-18",
         "attendees": [{"contact_id": contact.id, "status": "met"}]}, actor=None)
    lead = lead_services.create_lead({"title": "Zielprojekt", "organisation_id": organisation.id,
                                      "owner_id": user.id}, actor=user)
    activity = activity_services.create_activity(body="Nachfassen", actor=user, contact=contact,
                                                 due_on="2026-12-01")
    data_request = privacy_services.create_request(
        {"kind": "access", "requester": "Ziel", "received_on": "2025-06-02",
         "contact_id": contact.id}, actor=None, today=date(2026, 1, 1))
    view = saved_view_services.save_view(
        user, {"list_name": "contacts", "name": "Seoul", "query": "tag=Seoul"}, actor=user)
    upload = ImportUpload(user_id=user.id, filename="liste.csv", data=b"Name\r\nKim\r\n")
    db.session.add(upload)
    done = ContactImport(user_id=user.id, filename="liste.csv", counts={})
    db.session.add(done)
    twins = [contact_services.create_contact({"first_name": "Zwei", "last_name": "Mal"},
                                             actor=None, allow_duplicate=True)
             for _ in range(4)]
    merge = duplicate_services.merge("contacts", twins[2], twins[3], {}, actor=None)
    # Switched off, so that nothing is sent to it.
    webhook, _secret = webhook_services.create_webhook(
        {"url": "http://127.0.0.1:9/hooks", "events": ["lead.created"], "is_active": False},
        actor=None)
    delivery = WebhookDelivery(uid=f"target-{webhook.id}", webhook_id=webhook.id,
                               event="lead.created", body="{}", state="failed", attempts=6)
    db.session.add(delivery)
    db.session.commit()
    return {"user_id": user.id, "import_id": done.id, "record_type": "contacts",
            "kept_id": twins[0].id, "other_id": twins[1].id, "pair_id": 10**6, "merge_id": merge.id, "view_id": view.id, "webhook_id": webhook.id, "delivery_id": delivery.id, "upload_id": upload.id, "token_id": token.id, "organisation_id": organisation.id,
            "contact_id": contact.id, "event_id": event.id, "lead_id": lead.id,
            "activity_id": activity.id, "request_id": data_request.id, "kind": "contact",
            "record_id": contact.id,
            "secret": "cal_not-a-real-secret", "filename": "css/app.css",
            "section": "results", "extension": "csv", "form": "xlsx"}


@pytest.mark.parametrize(("endpoint", "method"), sorted(EXPECTED))
def test_route_answers_each_role_as_expected(app, endpoint, method):
    make_user(role="admin", name="Second admin, so the first may be changed")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    answers = {}
    for role in ROLES:
        values = make_targets()  # fresh, so one role's deletion does not change the next answer
        with app.test_request_context():
            url = url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
        client = app.test_client()
        headers = {}
        if role != "anonymous":
            user = make_user(role=role)
            if endpoint.startswith("api."):
                headers["Authorization"] = f"Bearer {make_token(user)[1]}"
            else:
                log_in(client, user)
        answers[role] = outcome(client.open(url, method=method, headers=headers))
    assert answers == EXPECTED[(endpoint, method)]


def test_roles_build_on_each_other():
    assert ROLE_PERMISSIONS[Role.MEMBER] < ROLE_PERMISSIONS[Role.MANAGER] < ROLE_PERMISSIONS[Role.ADMIN]
    assert ROLE_PERMISSIONS[Role.ADMIN] == set(Permission)


def test_only_admins_manage_users_and_only_managers_up_see_reports(app):
    member, manager, admin = (make_user(role=r) for r in ("member", "manager", "admin"))
    assert [has_permission(u, Permission.MANAGE_USERS) for u in (member, manager, admin)] == [
        False, False, True]
    assert [has_permission(u, Permission.VIEW_REPORTS) for u in (member, manager, admin)] == [
        False, True, True]


def test_a_deactivated_user_holds_no_permission(app):
    make_user(role="admin")
    manager = make_user(role="manager")
    manager.is_active = False
    assert not has_permission(manager, Permission.VIEW_RECORDS)
    assert not has_permission(None, Permission.VIEW_RECORDS)
