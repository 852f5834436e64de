"""Likely duplicates are found, a merge keeps every linked record on the kept one with the
values the user chose, and an admin's undo puts both records back as they were."""

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.services import ValidationError
from crm.duplicates import queries, services
from crm.duplicates.models import Merge
from crm.events import services as event_services
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.reading import guess_mapping, read_table
from crm.imports.services import import_contacts, undo_import
from crm.leads import services as lead_services
from crm.organisations.models import Organisation
from crm.privacy import services as privacy_services
from tests.conftest import log_in
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

LINKED = ("affiliations", "attendances", "activities", "lead_contacts", "contact_tags",
          "data_requests", "organisations", "leads", "organisation_tags",
          "organisation_sectors", "event_partners")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "position", "do_not_contact",
                  "search_text", "name_key", "deleted_at")


def state():
    """Every row linked to contacts or organisations, and the people's own fields."""
    tables = {}
    for name in LINKED:
        table = db.metadata.tables[name]
        columns = [c for c in table.columns if c.name not in ("updated_at", "version")]
        tables[name] = db.session.execute(
            sa.select(*columns).order_by(*table.primary_key.columns)).all()
    tables["contacts"] = db.session.execute(
        sa.select(*(getattr(Contact, f) for f in CONTACT_FIELDS), Contact.id)
        .order_by(Contact.id)).all()
    return tables


@pytest.fixture
def twins(app):
    """Jürgen Müller entered twice: once from a business card, once from an import."""
    user = make_user(name="Lea Schäfer")
    jenoptik = make_organisation(name="Jenoptik AG")
    optonet = make_organisation(name="OptoNet e.V.", kind="partner")
    breakfast = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    boston = make_event(name="Delegationsreise Boston", kind="trip", starts_on="2025-10-01")
    kept = make_contact(first_name="Jürgen", last_name="Müller", organisation=jenoptik,
                        email="j.mueller@jenoptik.example", tags=["Seoul"])
    other = make_contact(first_name="Juergen", last_name="Mueller", organisation=jenoptik,
                         email="juergen.mueller@example.de", phone="+49 3641 650",
                         tags=["Seoul", "Optik"])
    contact_services.add_affiliation(other, organisation=optonet, actor=None)
    event_services.set_attendance(breakfast, kept, "invited", actor=user)
    event_services.set_attendance(breakfast, other, "met", actor=user)
    event_services.set_attendance(boston, other, "attended", actor=user)
    note = make_activity(actor=user, subject=other, body="Interesse an Fläche in Jena")
    lead = make_lead(title="Jenoptik Erweiterung", organisation=jenoptik)
    lead_services.update_lead(lead, {"contact_ids": [other.id]}, actor=user)
    db.session.commit()
    return {"kept": kept, "other": other, "jenoptik": jenoptik, "optonet": optonet,
            "breakfast": breakfast, "boston": boston, "note": note, "lead": lead,
            "admin": make_user(role="admin")}


def test_likely_duplicates_are_grouped_with_their_reasons(app):
    jenoptik = make_organisation(name="Jenoptik AG")
    a = make_contact(first_name="Jürgen", last_name="Müller", organisation=jenoptik)
    b = make_contact(first_name="JUERGEN", last_name="Mueller", organisation=jenoptik)
    c = make_contact(first_name="Müller", last_name="Jürgen")  # the names swapped
    d = make_contact(first_name="Anna", last_name="Weiß", email="a.weiss@example.de")
    e = make_contact(first_name="Anne", last_name="Weiss", email="A.Weiss@example.de")
    make_contact(first_name="Hans", last_name="Müller")
    gone = make_contact(first_name="Jürgen", last_name="Müller")
    contact_services.delete_contact(gone, actor=None)
    db.session.commit()
    groups = {tuple(c.id for c in records): reasons
              for records, reasons in queries.contact_groups()}
    assert groups == {(a.id, b.id, c.id): ["name"], (d.id, e.id): ["email"]}
    c.affiliations.clear()
    contact_services.delete_contact(c, actor=None)
    db.session.commit()
    groups = {tuple(c.id for c in records): reasons
              for records, reasons in queries.contact_groups()}
    assert groups[(a.id, b.id)] == ["name", "organisation"]


def test_organisations_alike_apart_from_the_legal_form_are_grouped(app):
    a = make_organisation(name="Jenoptik AG")
    b = make_organisation(name="JENOPTIK GmbH")
    make_organisation(name="Jenoptik Optical Systems")
    groups = queries.organisation_groups()
    assert [[o.id for o in records] for records, _ in groups] == [[a.id, b.id]]


def test_the_duplicates_page_runs_the_same_queries_however_many(app, login, count_queries):
    _user, client = login()

    def statements():
        with count_queries() as found:
            assert client.get("/duplicates").status_code == 200
        return len(found)

    def add(n):
        for i in range(n):
            organisation = make_organisation(name=f"Dublette {n} {i} AG", commit=False)
            make_organisation(name=f"Dublette {n} {i} GmbH", commit=False)
            for _ in range(2):
                make_contact(first_name=f"Doppel{i}", last_name=f"N{n}",
                             organisation=organisation, commit=False)
        db.session.commit()

    add(2)
    few = statements()
    add(20)
    assert statements() == few <= 10


def test_a_merge_keeps_every_linked_record(twins):
    kept, other = twins["kept"], twins["other"]
    services.merge("contacts", kept, other, {"email": "other", "phone": "other"},
                   actor=twins["admin"])
    db.session.commit()
    kept = db.session.get(Contact, kept.id)
    assert kept.email == "juergen.mueller@example.de" and kept.phone == "+493641650"
    assert kept.first_name == "Jürgen"
    assert {a.organisation_id for a in kept.affiliations} == {twins["jenoptik"].id,
                                                              twins["optonet"].id}
    attendances = dict(db.session.execute(sa.select(Attendance.event_id, Attendance.status)
                                          .where(Attendance.contact_id == kept.id)).all())
    assert attendances == {twins["breakfast"].id: "met", twins["boston"].id: "attended"}
    assert db.session.get(Activity, twins["note"].id).contact_id == kept.id
    assert [c.id for c in twins["lead"].contacts] == [kept.id]
    assert sorted(kept.tags) == ["Optik", "Seoul"]
    assert db.session.get(Contact, other.id).is_deleted
    for table in ("affiliations", "attendances", "activities", "lead_contacts", "contact_tags"):
        column = db.metadata.tables[table].c.contact_id
        assert db.session.scalar(sa.select(sa.func.count()).where(column == other.id)) == 0
    entry = db.session.execute(sa.text(
        "SELECT action FROM audit_entries WHERE action = 'contact.merge'")).scalar()
    assert entry == "contact.merge"


def test_an_undo_puts_both_records_back_as_they_were(twins):
    before = state()
    done = services.merge("contacts", twins["kept"], twins["other"],
                          {"email": "other", "last_name": "other"}, actor=twins["admin"])
    db.session.commit()
    assert state() != before
    services.undo_merge(done, actor=twins["admin"])
    db.session.commit()
    assert state() == before
    assert done.undone_at is not None


def test_an_undo_is_refused_once_the_kept_record_changed_or_by_a_non_admin(twins):
    done = services.merge("contacts", twins["kept"], twins["other"], {},
                          actor=twins["admin"])
    db.session.commit()
    with pytest.raises(ValidationError):
        services.undo_merge(done, actor=make_user(role="manager"))
    contact_services.update_contact(db.session.get(Contact, twins["kept"].id),
                                    {"position": "CEO"}, actor=None)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.undo_merge(done, actor=twins["admin"])
    assert "Jürgen Müller" in str(refused.value.message)


def test_a_wish_not_to_be_contacted_survives_the_merge(twins):
    contact_services.update_contact(twins["other"], {"do_not_contact": True}, actor=None)
    db.session.commit()
    services.merge("contacts", twins["kept"], twins["other"], {}, actor=twins["admin"])
    assert db.session.get(Contact, twins["kept"].id).do_not_contact is True


def test_bad_merges_are_refused(twins):
    kept = twins["kept"]
    with pytest.raises(ValidationError):
        services.merge("contacts", kept, kept, {}, actor=None)
    with pytest.raises(ValidationError) as refused:
        services.merge("contacts", kept, twins["other"], {"email": "both", "password": "other"},
                       actor=None)
    assert set(refused.value.fields) == {"email", "password"}
    db.session.rollback()
    assert not db.session.get(Contact, twins["other"].id).is_deleted


def test_organisations_merge_with_their_people_leads_and_subsidiaries(app):
    kept = make_organisation(name="Jenoptik AG", tags=["Optik"], sectors=["optics_photonics"])
    other = make_organisation(name="JENOPTIK GmbH", city="Jena", tags=["Optik", "Jena"])
    subsidiary = make_organisation(name="Jenoptik Polen", parent_id=other.id)
    person = make_contact(first_name="Anna", last_name="Berg", organisation=other)
    lead = make_lead(title="Erweiterung", organisation=other)
    event = make_event(name="Photonics West", partner_ids=[other.id])
    db.session.commit()
    before = state()
    done = services.merge("organisations", kept, other, {"city": "other"}, actor=None)
    db.session.commit()
    kept = db.session.get(Organisation, kept.id)
    assert kept.city == "Jena" and kept.name == "Jenoptik AG"
    assert sorted(kept.tags) == ["Jena", "Optik"]
    assert db.session.get(Organisation, subsidiary.id).parent_id == kept.id
    assert [a.organisation_id for a in db.session.get(Contact, person.id).affiliations] == [
        kept.id]
    assert lead.organisation_id == kept.id
    partners = db.session.execute(sa.text("SELECT organisation_id FROM event_partners "
                                          "WHERE event_id = :id"), {"id": event.id}).scalars()
    assert list(partners) == [kept.id]
    services.undo_merge(done, actor=make_user(role="admin"))
    db.session.commit()
    assert state() == before


def test_an_organisation_merged_into_its_own_subsidiary_loses_no_parent_cycle(app):
    parent = make_organisation(name="Zeiss AG")
    child = make_organisation(name="ZEISS GmbH", parent_id=parent.id)
    services.merge("organisations", child, parent, {}, actor=None)
    db.session.commit()
    assert db.session.get(Organisation, child.id).parent_id is None


def test_an_erasure_removes_what_a_merge_kept_of_the_person(twins):
    done = services.merge("contacts", twins["kept"], twins["other"], {}, actor=twins["admin"])
    db.session.commit()
    merge_id = done.id
    privacy_services.erase_contact(db.session.get(Contact, twins["kept"].id),
                                   actor=twins["admin"], confirmed=True)
    db.session.commit()
    assert db.session.get(Merge, merge_id) is None


def test_the_pages_list_merge_and_undo(app, twins):
    member = log_in(app.test_client(), make_user(name="Mitglied"))
    html = member.get("/duplicates").get_data(as_text=True)
    merge_url = f"/duplicates/contacts/{twins['kept'].id}/{twins['other'].id}"
    assert merge_url in html and "gleicher Name" in html and "gleiche Organisation" in html
    html = member.get(merge_url).get_data(as_text=True)
    assert "j.mueller@jenoptik.example" in html and "juergen.mueller@example.de" in html
    assert 'name="field-email"' in html
    assert member.get(f"/duplicates/contacts/{twins['kept'].id}/{twins['kept'].id}"
                      ).status_code == 404
    assert member.get(f"/duplicates/contacts/{twins['kept'].id}/999999").status_code == 404
    refused = member.post(merge_url, data={"field-email": "nonsense"})
    assert refused.status_code == 422
    assert "Bitte einen der beiden Werte wählen." in refused.get_data(as_text=True)
    assert not db.session.get(Contact, twins["other"].id).is_deleted

    response = member.post(merge_url, data={"field-email": "other"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/contacts/{twins['kept'].id}")
    again = member.post(merge_url, data={"field-email": "other"})  # a second click
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/contacts/{twins['kept'].id}")
    assert "bereits" in member.get(again.headers["Location"]).get_data(as_text=True)
    assert member.get(f"/duplicates/contacts/{twins['other'].id}/{twins['kept'].id}"
                      ).status_code == 404  # the other is gone
    assert member.get("/admin/merges").status_code == 403

    admin = log_in(app.test_client(), twins["admin"])
    html = admin.get("/admin/merges").get_data(as_text=True)
    merge = db.session.scalar(sa.select(Merge))
    assert f'action="/admin/merges/{merge.id}/undo"' in html
    assert admin.post(f"/admin/merges/{merge.id}/undo").status_code == 303
    assert not db.session.get(Contact, twins["other"].id).is_deleted
    assert "rückgängig gemacht am" in admin.get("/admin/merges").get_data(as_text=True)


def test_a_subsidiary_cannot_become_the_parent_of_the_merged_organisation(app):
    """K belongs to C, C to O: merging O into K would make C K's parent and K C's."""
    other = make_organisation(name="Carl Zeiss AG")
    middle = make_organisation(name="Zeiss Jena GmbH", parent_id=other.id)
    kept = make_organisation(name="Carl Zeiss SE", parent_id=middle.id)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.merge("organisations", kept, other, {}, actor=None)
    assert set(refused.value.fields) == {"parent_id"}
    assert "Zeiss Jena GmbH" in str(refused.value.message)
    db.session.rollback()
    assert not db.session.get(Organisation, other.id).is_deleted
    services.merge("organisations", db.session.get(Organisation, kept.id),
                   db.session.get(Organisation, other.id), {"parent_id": "other"}, actor=None)
    db.session.commit()
    assert db.session.get(Organisation, kept.id).parent_id is None
    assert db.session.get(Organisation, middle.id).parent_id == kept.id


def test_a_parent_merged_into_its_subsidiary_is_undone(app):
    parent = make_organisation(name="Zeiss AG")
    child = make_organisation(name="ZEISS GmbH", parent_id=parent.id)
    db.session.commit()
    before = state()
    done = services.merge("organisations", child, parent, {}, actor=None)
    db.session.commit()
    services.undo_merge(done, actor=make_user(role="admin"))
    db.session.commit()
    assert state() == before


def test_an_undo_is_refused_once_the_other_record_came_back_or_changed(twins):
    admin = twins["admin"]
    done = services.merge("contacts", twins["kept"], twins["other"], {}, actor=admin)
    db.session.commit()
    other = db.session.get(Contact, twins["other"].id)
    contact_services.restore_contact(other, actor=admin)
    contact_services.update_contact(other, {"position": "CFO"}, actor=admin)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.undo_merge(done, actor=admin)
    assert "Juergen Mueller" in str(refused.value.message)
    db.session.rollback()
    assert db.session.get(Contact, other.id).position == "CFO"
    assert db.session.get(Merge, done.id).undone_at is None


def test_an_undo_puts_back_removed_rows_whose_ids_were_given_away(twins):
    """An id a merge freed may go to another row (SQLite gives the highest id again once its
    row is gone); the removed row comes back under a new id, and the other row keeps its own."""
    admin = twins["admin"]
    boston = twins["boston"]
    event_services.set_attendance(boston, twins["kept"], "invited", actor=admin)
    db.session.commit()
    done = services.merge("contacts", twins["kept"], twins["other"], {}, actor=admin)
    db.session.commit()
    removed_ids = sorted(row["id"] for table, row in done.removed if table == "attendances")
    assert len(removed_ids) == 2
    stranger = make_contact(first_name="Min-jung", last_name="Kim")
    for event, given_away in zip((twins["breakfast"], boston), removed_ids, strict=True):
        db.session.add(Attendance(id=given_away, event_id=event.id, contact_id=stranger.id,
                                  status="met"))
    db.session.commit()
    services.undo_merge(done, actor=admin)
    db.session.commit()
    back = db.session.execute(sa.select(Attendance.event_id, Attendance.status, Attendance.id)
                              .where(Attendance.contact_id == twins["other"].id)).all()
    assert {(event_id, status) for event_id, status, _ in back} == {
        (twins["breakfast"].id, "met"), (boston.id, "attended")}
    assert not {row_id for _, _, row_id in back} & set(removed_ids)
    assert sorted(db.session.scalars(sa.select(Attendance.id).where(
        Attendance.contact_id == stranger.id))) == removed_ids


def test_an_import_is_not_undone_over_a_merge(twins):
    """The import's rows keep naming the person they changed: once merged away, the import's
    undo refuses and touches neither of the two."""
    table = read_table("scan.csv", b"Vorname;Nachname;E-Mail;Position\r\n"
                       b"Juergen;Mueller;juergen.mueller@example.de;Leiter Vertrieb\r\n"
)
    done_import = import_contacts(table, guess_mapping(table.header), actor=twins["admin"],
                                  filename="scan.csv").contact_import
    db.session.commit()
    services.merge("contacts", db.session.get(Contact, twins["kept"].id),
                   db.session.get(Contact, twins["other"].id), {"position": "other"},
                   actor=twins["admin"])
    db.session.commit()
    merged = state()
    with pytest.raises(ValidationError) as refused:
        undo_import(done_import, actor=twins["admin"])
    assert "Juergen Mueller" in str(refused.value.message)
    db.session.rollback()
    assert state() == merged
    assert db.session.get(Contact, twins["kept"].id).position == "Leiter Vertrieb"


def test_an_erasure_of_the_merged_person_clears_their_name_from_the_kept_ones_log(twins):
    admin = twins["admin"]
    done = services.merge("contacts", twins["kept"], twins["other"], {}, actor=admin)
    db.session.commit()
    services.undo_merge(done, actor=admin)
    db.session.commit()
    privacy_services.erase_contact(db.session.get(Contact, twins["other"].id), actor=admin,
                                   confirmed=True)
    db.session.commit()
    logged = db.session.scalars(sa.select(AuditEntry.changes).where(
        AuditEntry.action.in_(["contact.merge", "contact.merge_undo"]),
        AuditEntry.record_id == twins["kept"].id)).all()
    assert len(logged) == 2
    text = " ".join(" ".join(changes["merged"]) for changes in logged)
    assert "Juergen" not in text and "Mueller" not in text
    assert "Jürgen Müller" in text  # the kept person is named still
