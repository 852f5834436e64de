import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.core.services import ConflictError, DuplicateError, NotFoundError, ValidationError
from crm.extensions import db
from crm.organisations import services
from crm.organisations.models import Organisation
from tests.factories import make_organisation, make_user


def count():
    return db.session.scalar(sa.select(sa.func.count(Organisation.id)))


def test_create_an_organisation_with_all_fields(app):
    user = make_user()
    organisation = services.create_organisation({
        "name": "Jenoptik AG", "kind": "investor", "country": "DE", "city": "Jena",
        "address": "Carl-Zeiss-Straße 1\n07743 Jena", "website": "www.jenoptik.com",
        "description": "Photonik-Konzern.", "sectors": ["sensors", "optics_photonics"],
        "tags": ["Aftercare", " aftercare ", "Photonik"]}, actor=user)
    db.session.commit()
    assert organisation.website == "https://www.jenoptik.com"
    assert organisation.sectors == ["optics_photonics", "sensors"]
    assert organisation.tags == ["Aftercare", "Photonik"]
    assert organisation.created_by_id == user.id
    assert organisation.match_key == "jenoptik"
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "organisation.create")).one()
    assert entry.actor_id == user.id and entry.changes["name"] == [None, "Jenoptik AG"]


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 301}, "name"),
    ({"name": "Firma\x00"}, "name"),
    ({"name": 42}, "name"),
    ({"kind": "pirate"}, "kind"),
    ({"country": "XX"}, "country"),
    ({"country": "Deutschland"}, "country"),
    ({"website": "javascript:alert(1)"}, "website"),
    ({"website": "ftp://files.example.org"}, "website"),
    ({"website": "https://"}, "website"),
    ({"website": "http://exa mple.org"}, "website"),
    ({"description": "x" * 1_000_000}, "description"),
    ({"sectors": ["automotive", "space piracy"]}, "sectors"),
    ({"sectors": "automotive"}, "sectors"),
    ({"tags": ["x" * 51]}, "tags"),
    ({"parent_id": 4242}, "parent_id"),
    ({"parent_id": "abc"}, "parent_id"),
    ({"parent_id": True}, "parent_id"),
])
def test_bad_input_names_the_field_and_saves_nothing(app, data, field):
    with pytest.raises(ValidationError) as raised:
        services.create_organisation({"name": "Gute Firma", "kind": "investor", **data},
                                     actor=None)
    assert field in raised.value.fields
    db.session.rollback()
    assert count() == 0


def test_unknown_fields_are_refused(app):
    with pytest.raises(ValidationError) as raised:
        services.create_organisation({"name": "X", "colour": "blue"}, actor=None)
    assert "colour" in raised.value.fields


@pytest.mark.parametrize(("existing", "new"), [
    ("Jenoptik AG", "JENOPTIK GmbH"),
    ("Müller Optik GmbH", "Mueller Optik"),
    ("OptoNet e.V.", "optonet"),
    ("Samsung Electronics Co., Ltd.", "Samsung Electronics"),
    ("Hyundai Motor Company", "Hyundai Motor Co."),
    ("The Boeing Company", "Boeing"),
])
def test_a_name_like_an_existing_one_is_a_duplicate_until_confirmed(app, existing, new):
    first = make_organisation(name=existing)
    with pytest.raises(DuplicateError) as raised:
        services.create_organisation({"name": new, "kind": "investor"}, actor=None)
    assert raised.value.duplicates == [first]
    assert "name" in raised.value.fields
    second = services.create_organisation({"name": new, "kind": "investor"}, actor=None,
                                          allow_duplicate=True)
    assert second.id != first.id


def test_different_names_are_no_duplicates(app):
    make_organisation(name="Jenoptik AG")
    services.create_organisation({"name": "Jenoptik Optical Systems (Shanghai)",
                                  "kind": "investor"}, actor=None)


def test_a_deleted_organisation_is_no_duplicate(app):
    old = make_organisation(name="Alte Firma GmbH")
    services.delete_organisation(old, actor=None)
    services.create_organisation({"name": "Alte Firma", "kind": "investor"}, actor=None)


def test_update_changes_only_what_is_given_and_records_it(app):
    organisation = make_organisation(name="Kia", country="KR", sectors=["automotive"])
    services.update_organisation(organisation, {"city": "Seoul"}, actor=None,
                                 expected_version=organisation.version)
    db.session.commit()
    assert (organisation.name, organisation.country, organisation.city) == ("Kia", "KR", "Seoul")
    assert organisation.sectors == ["automotive"]
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "organisation.update")).one()
    assert entry.changes == {"city": [None, "Seoul"]}


def test_changing_only_sectors_moves_the_version_on(app):
    organisation = make_organisation(sectors=["automotive"])
    version = organisation.version
    services.update_organisation(organisation, {"sectors": ["automotive", "sensors"]}, actor=None)
    db.session.commit()
    assert organisation.version == version + 1


def test_an_update_on_an_outdated_version_is_a_conflict(app):
    organisation = make_organisation()
    seen = organisation.version
    services.update_organisation(organisation, {"city": "Erfurt"}, actor=None,
                                 expected_version=seen)
    db.session.commit()
    with pytest.raises(ConflictError):
        services.update_organisation(organisation, {"city": "Jena"}, actor=None,
                                     expected_version=seen)


def test_renaming_to_an_existing_name_is_a_duplicate(app):
    make_organisation(name="Huawei Technologies")
    other = make_organisation(name="Alibaba")
    with pytest.raises(DuplicateError):
        services.update_organisation(other, {"name": "HUAWEI Technologies Co., Ltd."},
                                     actor=None)


def test_a_subsidiary_belongs_to_its_group_but_never_to_itself(app):
    group = make_organisation(name="Jenoptik AG")
    shanghai = make_organisation(name="Jenoptik Shanghai", parent_id=group.id, country="CN")
    assert shanghai.parent == group
    with pytest.raises(ValidationError) as raised:
        services.update_organisation(group, {"parent_id": group.id}, actor=None)
    assert "parent_id" in raised.value.fields
    db.session.rollback()
    with pytest.raises(ValidationError):
        services.update_organisation(group, {"parent_id": shanghai.id}, actor=None)


def test_soft_delete_hides_and_restore_brings_back(app):
    organisation = make_organisation()
    services.delete_organisation(organisation, actor=None)
    db.session.commit()
    assert db.session.get(Organisation, organisation.id) is not None
    with pytest.raises(NotFoundError):
        services.get_organisation(organisation.id)
    assert services.get_organisation(organisation.id, include_deleted=True) == organisation
    services.restore_organisation(organisation, actor=None)
    assert services.get_organisation(organisation.id) == organisation
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["organisation.delete", "organisation.restore"]


def test_names_in_other_scripts_are_stored_exactly(app):
    organisation = make_organisation(name="현대자동차 (Hyundai Motor Company)")
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).name == "현대자동차 (Hyundai Motor Company)"
