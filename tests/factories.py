"""Test data: plain functions with sensible defaults, each taking overrides."""

from itertools import count

from crm.auth import services as auth_services
from crm.extensions import db

DEFAULT_PASSWORD = "correct horse battery staple"
_numbers = count(1)


def make_user(*, commit=True, password=DEFAULT_PASSWORD, **overrides):
    """An active account with a known password (`DEFAULT_PASSWORD`)."""
    n = next(_numbers)
    data = {"email": f"user{n}@lotse.example", "name": f"Test User {n}", "role": "member",
            "language": "de"}
    data.update(overrides)
    user, _ = auth_services.create_user(**data, password=password, actor=None)
    if commit:
        db.session.commit()
    return user


def make_token(user, name="test token", read_only=False):
    """An API token for `user`; returns `(token, plaintext)`."""
    token, plaintext = auth_services.create_token(user, name=name, actor=None,
                                                  read_only=read_only)
    db.session.commit()
    return token, plaintext


def make_organisation(*, actor=None, commit=True, **overrides):
    """An investor company (unique name unless given)."""
    from crm.organisations import services

    data = {"name": f"Testfirma {next(_numbers)} GmbH", "kind": "investor"}
    data.update(overrides)
    organisation = services.create_organisation(data, actor=actor, allow_duplicate=True)
    if commit:
        db.session.commit()
    return organisation


def make_contact(*, actor=None, commit=True, organisation=None, **overrides):
    """A contact, working at `organisation` if one is given."""
    from crm.contacts import services

    data = {"first_name": "Test", "last_name": f"Person {next(_numbers)}"}
    if organisation is not None:
        data["affiliations"] = [{"organisation_id": organisation.id, "role": None,
                                 "is_current": True}]
    data.update(overrides)
    contact = services.create_contact(data, actor=actor, allow_duplicate=True)
    if commit:
        db.session.commit()
    return contact


def make_event(*, actor=None, commit=True, **overrides):
    """A business breakfast on 3 September 2024 (or what the overrides say)."""
    from crm.events import services

    data = {"name": f"Veranstaltung {next(_numbers)}", "kind": "business_breakfast",
            "starts_on": "2024-09-03"}
    data.update(overrides)
    event = services.create_event(data, actor=actor)
    if commit:
        db.session.commit()
    return event


def make_lead(*, actor=None, commit=True, organisation=None, **overrides):
    """A lead at stage `lead` for `organisation` (a new investor company if none is given)."""
    from crm.leads import services

    organisation = organisation or make_organisation(commit=False)
    data = {"title": f"Projekt {next(_numbers)}", "organisation_id": organisation.id}
    data.update(overrides)
    lead = services.create_lead(data, actor=actor)
    if commit:
        db.session.commit()
    return lead


# What a lead needs to pass each stage (see crm/leads/rules.py).
PROSPECT_FIELDS = {"sector": "automotive", "investment_type": "greenfield",
                   "capex_eur": 25_000_000, "new_jobs": 120}
ACTIVE_FIELDS = {**PROSPECT_FIELDS, "likelihood": "medium"}
DECISION_FIELDS = {**ACTIVE_FIELDS, "chosen_site": "Erfurter Kreuz", "safeguarded_jobs": 0,
                   "decided_on": "2026-06-30"}


def make_activity(*, actor, commit=True, subject=None, **overrides):
    """A note by `actor` on `subject` (an organisation, contact, event or lead; a new contact if
    none is given). With `due_on` it is a follow-up, for its author unless `assignee` says
    otherwise."""
    from crm.activities import services

    if subject is None:
        subject = make_contact(commit=False)
    data = {"body": f"Notiz {next(_numbers)}", type(subject).__name__.lower(): subject}
    data.update(overrides)
    activity = services.create_activity(actor=actor, **data)
    if commit:
        db.session.commit()
    return activity
