"""Two people found alike who are not one (two Kim Min-juns at two companies) are marked so,
and are no longer offered for merging; the mark can be taken back."""

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.duplicates import queries
from crm.duplicates.models import DistinctPair
from crm.extensions import db
from tests.factories import make_contact, make_organisation


def kims():
    hanwha = make_organisation(name="Hanwha Sensorik")
    lg = make_organisation(name="LG Innotek")
    first = make_contact(first_name="Min-jun", last_name="Kim", organisation=hanwha)
    second = make_contact(first_name="Min-jun", last_name="Kim", organisation=lg)
    db.session.commit()
    return first, second


def grouped(record_type="contacts"):
    groups = (queries.contact_groups() if record_type == "contacts"
              else queries.organisation_groups())
    return [sorted(record_.id for record_ in group) for group, _ in groups]


def mark(client, record_type, record_, *others):
    return client.post(f"/duplicates/{record_type}/{record_.id}/distinct",
                       data={"others": [str(other.id) for other in others]})


def test_a_pair_marked_as_not_the_same_leaves_the_page_and_comes_back(app, login):
    first, second = kims()
    _, client = login("member")
    page = client.get("/duplicates").get_data(as_text=True)
    assert "Nicht dieselbe" in page and grouped() == [[first.id, second.id]]
    assert mark(client, "contacts", second, first).status_code == 303
    assert "als verschieden von den anderen" in client.get("/duplicates").get_data(as_text=True)
    assert grouped() == []
    # Marking again (a second click, or the other way round) changes nothing.
    assert mark(client, "contacts", first, second).status_code == 303
    (pair,) = db.session.scalars(sa.select(DistinctPair)).all()
    assert (pair.first_id, pair.second_id) == (first.id, second.id)
    listed = client.get("/duplicates/distinct").get_data(as_text=True)
    assert f'href="/contacts/{first.id}"' in listed and f'href="/contacts/{second.id}"' in listed
    assert "Wieder anbieten" in listed
    assert client.post(f"/duplicates/distinct/{pair.id}/undo").status_code == 303
    assert grouped() == [[first.id, second.id]]
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.record_type == "distinct_pairs")).all()
    assert [e.action for e in entries] == ["duplicates.distinct", "duplicates.distinct_undo"]
    assert entries[0].record_label == f"#{first.id} / #{second.id}", "ids, not names"


def test_one_of_three_marked_as_someone_else_leaves_the_two_others(app, login):
    first, second = kims()
    third = make_contact(first_name="Min-jun", last_name="KIM", email="mj.kim@example.kr")
    fourth = make_contact(last_name="Berg", email="MJ.Kim@example.kr")  # alike only by email
    db.session.commit()
    assert grouped() == [[first.id, second.id, third.id, fourth.id]]
    _, client = login("member")
    page = client.get("/duplicates").get_data(as_text=True)
    assert page.count("Nicht dieselbe<") == 4, "in a group of more than two, each can be"
    mark(client, "contacts", second, first, third, fourth)
    assert grouped() == [[first.id, third.id, fourth.id]]
    mark(client, "contacts", third, first, fourth)
    assert grouped() == [], "Berg shares nothing with the first Kim: no group is left"


def test_organisations_are_marked_alike(app, login):
    jena = make_organisation(name="Optik Jena GmbH")
    other = make_organisation(name="OPTIK JENA AG")
    db.session.commit()
    _, client = login("member")
    assert grouped("organisations") == [[jena.id, other.id]]
    mark(client, "organisations", other, jena)
    assert grouped("organisations") == []
    assert grouped() == []


def test_bad_marks_are_refused_and_keep_nothing(app, login):
    first, second = kims()
    gone = make_contact(first_name="Min-jun", last_name="Kim")
    organisation = make_organisation(name="Jenoptik AG")
    db.session.commit()
    user, client = login("member")
    contact_services.delete_contact(gone, actor=user)
    db.session.commit()
    for url, others in ((f"/duplicates/contacts/{first.id}/distinct", [first.id]),
                        (f"/duplicates/contacts/{first.id}/distinct", []),
                        (f"/duplicates/contacts/{first.id}/distinct", ["abc", "-1"]),
                        (f"/duplicates/contacts/{first.id}/distinct", [gone.id])):
        response = client.post(url, data={"others": [str(o) for o in others]})
        assert response.status_code == 422, (url, others)
    for url, others in ((f"/duplicates/contacts/{first.id}/distinct", [999999]),
                        ("/duplicates/contacts/999999/distinct", [first.id]),
                        (f"/duplicates/organisations/{organisation.id}/distinct",
                         [organisation.id + 999]),
                        (f"/duplicates/people/{first.id}/distinct", [second.id]),
                        ("/duplicates/distinct/999999/undo", [])):
        assert client.post(url, data={"others": others}).status_code == 404, (url, others)
    assert db.session.scalar(sa.select(sa.func.count(DistinctPair.id))) == 0
    anonymous = app.test_client()
    response = anonymous.post(f"/duplicates/contacts/{first.id}/distinct",
                              data={"others": [str(second.id)]})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(DistinctPair.id))) == 0


def test_the_audit_log_names_the_marks(app, login):
    first, second = kims()
    _, client = login("member")
    mark(client, "contacts", second, first)
    _, admin = login("admin")
    page = admin.get("/admin/audit?action=duplicates.").get_data(as_text=True)
    assert "Als verschieden markiert" in page and "Als verschieden markiertes Paar" in page
