"""Two people found alike who are not one (two Kim Min-juns at two companies) are marked so,
and are no longer offered for merging; the mark can be taken back."""

import sqlalchemy as sa

from crm.audit.models import AuditEntry
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


def test_a_pair_marked_as_not_the_same_leaves_the_page_and_comes_back(app, login):
    first, second = kims()
    _, client = login("member")
    page = client.get("/duplicates").get_data(as_text=True)
    assert "Nicht dieselbe" in page and grouped() == [[first.id, second.id]]
    marked = client.post(f"/duplicates/contacts/{first.id}/{second.id}/distinct")
    assert marked.status_code == 303
    assert "als verschieden markiert" in client.get("/duplicates").get_data(as_text=True)
    assert grouped() == []
    # Marking again (a second click, or the other way round) changes nothing.
    client.post(f"/duplicates/contacts/{second.id}/{first.id}/distinct")
    (pair,) = db.session.scalars(sa.select(DistinctPair)).all()
    assert (pair.first_id, pair.second_id) == (first.id, second.id)
    listed = client.get("/duplicates/distinct").get_data(as_text=True)
    assert f'href="/contacts/{first.id}"' in listed and f'href="/contacts/{second.id}"' in listed
    assert "Wieder anbieten" in listed
    assert client.post(f"/duplicates/distinct/{pair.id}/undo").status_code == 303
    assert grouped() == [[first.id, second.id]]
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.record_type == "distinct_pairs")).all()
    assert actions == ["duplicates.distinct", "duplicates.distinct_undo"]


def test_a_group_of_three_keeps_the_pairs_not_marked(app, login):
    first, second = kims()
    third = make_contact(first_name="Min-jun", last_name="KIM", email="mj.kim@example.kr")
    fourth = make_contact(last_name="Berg", email="MJ.Kim@example.kr")
    db.session.commit()
    assert grouped() == [[first.id, second.id, third.id, fourth.id]]
    _, client = login("member")
    client.post(f"/duplicates/contacts/{first.id}/{second.id}/distinct")
    assert grouped() == [[first.id, second.id, third.id, fourth.id]], "linked through others"
    for other in (second, third, fourth):
        client.post(f"/duplicates/contacts/{first.id}/{other.id}/distinct")
    assert grouped() == [[second.id, third.id, fourth.id]]


def test_organisations_are_marked_alike(app, login):
    jena = make_organisation(name="Optik Jena GmbH")
    other = make_organisation(name="OPTIK JENA AG")
    db.session.commit()
    _, client = login("member")
    assert grouped("organisations") == [[jena.id, other.id]]
    client.post(f"/duplicates/organisations/{jena.id}/{other.id}/distinct")
    assert grouped("organisations") == []
    assert grouped() == []


def test_bad_marks_are_refused_and_keep_nothing(app, login):
    first, second = kims()
    organisation = make_organisation(name="Jenoptik AG")
    db.session.commit()
    _, client = login("member")
    for url in (f"/duplicates/contacts/{first.id}/{first.id}/distinct",
                f"/duplicates/contacts/{first.id}/999999/distinct",
                f"/duplicates/organisations/{first.id}/{organisation.id + 999}/distinct",
                f"/duplicates/people/{first.id}/{second.id}/distinct",
                "/duplicates/distinct/999999/undo"):
        assert client.post(url).status_code == 404, url
    assert db.session.scalar(sa.select(sa.func.count(DistinctPair.id))) == 0
    anonymous = app.test_client()
    response = anonymous.post(f"/duplicates/contacts/{first.id}/{second.id}/distinct")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(DistinctPair.id))) == 0
