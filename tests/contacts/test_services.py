import pytest
import sqlalchemy as sa

from crm.contacts import services
from crm.contacts.models import Contact
from crm.core.services import ConflictError, DuplicateError, ValidationError
from crm.extensions import db
from tests.factories import make_contact, make_organisation, make_user


def count():
    return db.session.scalar(sa.select(sa.func.count(Contact.id)))


def test_a_quick_contact_needs_only_a_last_name_and_gets_the_defaults(app):
    user = make_user()
    contact = services.create_contact({"last_name": "Schäfer"}, actor=user)
    assert contact.owner_id == user.id
    assert contact.legal_basis == "public_task"
    assert contact.display_name == "Schäfer"


def test_data_protection_marks_start_unset_and_are_kept_apart(app):
    """Informed on, marketing consent and do-not-contact: unset for a new contact, each changed
    on its own and recorded in the audit log."""
    from crm.audit.models import AuditEntry

    user = make_user()
    contact = services.create_contact({"last_name": "Schäfer"}, actor=user)
    assert (contact.informed_on, contact.marketing_consent, contact.do_not_contact) == \
        (None, False, False)
    services.update_contact(contact, {"informed_on": "05.03.2025", "do_not_contact": "on"},
                            actor=user)
    db.session.commit()
    db.session.expire_all()
    contact = db.session.get(Contact, contact.id)
    assert (contact.informed_on.isoformat(), contact.marketing_consent,
            contact.do_not_contact) == ("2025-03-05", False, True)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contact.update")).one()
    assert entry.changes == {"informed_on": [None, "2025-03-05"], "do_not_contact": [False, True]}


def test_phone_numbers_are_stored_in_international_form(app):
    contact = make_contact(phone="0361 5603-450", mobile="+82 10-1234-5678")
    assert contact.phone == "+493615603450"
    assert contact.mobile == "+821012345678"
    assert contact.formatted_phone("phone") == "+49 361 5603450"


def test_names_in_hangul_and_chinese_characters_are_kept_and_shown_family_name_first(app):
    korean = make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung")
    chinese = make_contact(first_name="伟", last_name="张", latin_name="Zhang Wei")
    german = make_contact(first_name="Jürgen", last_name="Weiß", academic_title="Dr.")
    db.session.expire_all()
    assert db.session.get(Contact, korean.id).display_name == "김민정"
    assert db.session.get(Contact, chinese.id).display_name == "张伟"
    assert db.session.get(Contact, german.id).display_name == "Dr. Jürgen Weiß"
    assert "kim min-jung" in korean.search_text and "김" in korean.search_text
    assert korean.name_sort.startswith("kim")


@pytest.mark.parametrize(("data", "field"), [
    ({"last_name": ""}, "last_name"),
    ({"last_name": "x" * 101}, "last_name"),
    ({"email": "not an email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"phone": "12"}, "phone"),
    ({"phone": "call me maybe"}, "phone"),
    ({"mobile": "+49 000"}, "mobile"),
    ({"language": "klingon"}, "language"),
    ({"legal_basis": "because"}, "legal_basis"),
    ({"owner_id": 4242}, "owner_id"),
    ({"source": "s" * 301}, "source"),
    ({"informed_on": "morgen"}, "informed_on"),
    ({"informed_on": "31.02.2026"}, "informed_on"),
    ({"informed_on": "2999-01-01"}, "informed_on"),
    ({"informed_on": "1900-01-01"}, "informed_on"),
    ({"marketing_consent": "vielleicht"}, "marketing_consent"),
    ({"do_not_contact": [True]}, "do_not_contact"),
    ({"affiliations": [{"organisation_id": 4242}]}, "affiliations"),
    ({"affiliations": [{"role": "CEO"}]}, "affiliations"),
    ({"affiliations": "Jenoptik"}, "affiliations"),
    ({"affiliations": [{"organisation_id": 1, "colour": "red"}]}, "affiliations"),
])
def test_bad_input_names_the_field_and_saves_nothing(app, data, field):
    with pytest.raises(ValidationError) as raised:
        services.create_contact({"last_name": "Weber", **data}, actor=None)
    assert field in raised.value.fields
    db.session.rollback()
    assert count() == 0


def test_an_inactive_owner_is_refused(app):
    make_user(role="admin")
    former = make_user()
    former.is_active = False
    db.session.commit()
    with pytest.raises(ValidationError) as raised:
        services.create_contact({"last_name": "X", "owner_id": former.id}, actor=None)
    assert "owner_id" in raised.value.fields


def test_an_existing_email_is_a_duplicate_until_confirmed(app):
    first = make_contact(email="Min-Jung.Kim@Hyundai.example")
    with pytest.raises(DuplicateError) as raised:
        services.create_contact({"last_name": "Kim", "email": "min-jung.kim@hyundai.example"},
                                actor=None)
    assert raised.value.duplicates == [first]
    services.create_contact({"last_name": "Kim", "email": "min-jung.kim@hyundai.example"},
                            actor=None, allow_duplicate=True)


def test_a_person_belongs_to_several_organisations_now_and_in_the_past(app):
    lg, samsung = make_organisation(name="LG"), make_organisation(name="Samsung")
    contact = make_contact(affiliations=[
        {"organisation_id": samsung.id, "role": "Engineer", "is_current": False},
        {"organisation_id": lg.id, "role": "Director", "is_current": True}])
    assert [a.organisation for a in contact.current_affiliations] == [lg]
    assert {a.organisation_id for a in contact.affiliations} == {lg.id, samsung.id}
    services.add_affiliation(contact, organisation=samsung, role="Advisor", actor=None)
    assert {(a.organisation_id, a.role, a.is_current) for a in contact.affiliations} == {
        (lg.id, "Director", True), (samsung.id, "Advisor", True)}
    services.remove_affiliation(contact, lg.id, actor=None)
    db.session.commit()
    assert [a.organisation_id for a in contact.affiliations] == [samsung.id]


def test_an_update_on_an_outdated_version_is_a_conflict(app):
    contact = make_contact()
    seen = contact.version
    services.update_contact(contact, {"position": "CEO"}, actor=None, expected_version=seen)
    db.session.commit()
    with pytest.raises(ConflictError):
        services.update_contact(contact, {"position": "CFO"}, actor=None, expected_version=seen)


def test_deleting_a_contact_keeps_it_for_restoring(app):
    contact = make_contact()
    services.delete_contact(contact, actor=None)
    db.session.commit()
    assert contact.is_deleted
    assert services.find_duplicates(contact.email) == []
    services.restore_contact(contact, actor=None)
    assert not contact.is_deleted
