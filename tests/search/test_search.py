"""The global search: spellings, scripts and word parts find the same people; results come
grouped and best first, through the databases' own indexes, as the user types; what a user
may not see never appears."""

import re

import pytest
import sqlalchemy as sa

from crm.activities import services as activity_services
from crm.contacts import services as contact_services
from crm.core.fulltext import matching_words
from crm.extensions import db
from crm.leads import services as lead_services
from crm.organisations import services as organisation_services
from crm.privacy import services as privacy_services
from crm.search import queries
from tests.conftest import ON_POSTGRES
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)


@pytest.fixture
def people(app):
    """Names in several spellings and scripts, at Jenoptik and OptoNet."""
    jenoptik = make_organisation(name="Jenoptik AG", city="Jena")
    optonet = make_organisation(name="OptoNet e.V.", kind="partner", city="Jena")
    records = {
        "müller": make_contact(first_name="Jürgen", last_name="Müller", organisation=jenoptik,
                               email="j.mueller@jenoptik.example"),
        "wójcik": make_contact(first_name="Agnieszka", last_name="Wójcik", organisation=optonet),
        "weiß": make_contact(first_name="Dr. Anna", last_name="Weiß"),
        "kim": make_contact(first_name="민준", last_name="김", latin_name="Kim Min-jun"),
        "wang": make_contact(first_name="小明", last_name="王", latin_name="Wang Xiaoming"),
        "josé": make_contact(first_name="José", last_name="García"),
        "jenoptik": jenoptik,
        "optonet": optonet,
    }
    db.session.commit()
    return records


def found(user, q, group="contacts"):
    records, _more = queries.search(user, q, 20).get(group, ([], False))
    return set(records)


SPELLINGS = [
    ("müller", ["Müller", "müller", "MÜLLER", "muller", "mueller", "Mueller", "MUELLER", "mül",
                "jürgen müller", "muller jurgen", "j.mueller@jenoptik"]),
    ("wójcik", ["Wójcik", "wojcik", "WOJCIK", "wójc", "Agnieszka Wojcik"]),
    ("weiß", ["Weiß", "weiss", "WEISS", "weis", "anna weiß"]),
    ("kim", ["김민준", "민준", "김", "Kim", "min-jun", "kim min"]),
    ("wang", ["王小明", "小明", "王", "Wang", "xiaoming", "XIAO"]),
    ("josé", ["José", "jose", "JOSE", "garcia", "García", "jos"]),
]


@pytest.mark.parametrize(("who", "spellings"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_every_spelling_finds_the_person(people, who, spellings):
    user = make_user()
    for q in spellings:
        assert people[who] in found(user, q), q


def test_a_search_finds_only_what_has_every_word(people):
    user = make_user()
    assert found(user, "müller") == {people["müller"]}
    assert found(user, "jürgen wójcik") == set()
    assert found(user, "Schmidt") == set()
    # Prefixes and parts of words: "jenop" finds the company, "opt" both.
    assert found(user, "jenop", "organisations") == {people["jenoptik"]}
    assert found(user, "opt", "organisations") == {people["jenoptik"], people["optonet"]}
    assert found(user, "thüringen opto", "organisations") == set()


@pytest.mark.parametrize("q", ["%", "_", "\\", "%%", "a_b", "'; DROP TABLE contacts; --", "   ",
                               "🙂", "x" * 200, " ".join(["q"] * 40), "\x00"])
def test_odd_searches_match_literally_and_never_fail(client, login, people, q):
    _user, client = login()
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == (400 if "\x00" in q else 200)
    user = make_user()
    assert found(user, q) == set()


def test_a_wildcard_in_a_search_is_a_plain_character(people):
    user = make_user()
    percent = make_contact(first_name="Zehn", last_name="100%-Werk")
    underscore = make_contact(first_name="Anna", last_name="B", email="anna_b@example.org")
    db.session.commit()
    assert found(user, "100%") == {percent}
    assert found(user, "anna_b") == {underscore}
    assert found(user, "nna_") == {underscore}


def test_best_matches_come_first(app):
    user = make_user()
    inside = make_contact(first_name="Karl", last_name="Obermüller")
    later_word = make_contact(first_name="Anna", last_name="Müllerová")
    first_word = make_contact(first_name="Müller", last_name="Anton")
    db.session.commit()
    records, _ = queries.search(user, "müller", 20)["contacts"]
    assert records == [first_word, later_word, inside]


def test_notes_are_the_best_among_the_newest_that_match(app, monkeypatch):
    """A word in more notes than the window holds: the best of the newest ones that match
    (one starting with the word first), and a rarer word still finds an older note."""
    monkeypatch.setattr(queries, "NOTES_WINDOW", 3)
    user, organisation = make_user(), make_organisation(name="Jenoptik AG")
    oldest = make_activity(actor=user, subject=organisation, body="Jenoptik Werk Süd besucht")
    inside = [make_activity(actor=user, subject=organisation, body=f"Termin {n} bei Jenoptik")
              for n in range(3)]
    starting = make_activity(actor=user, subject=organisation, body="Jenoptik ruft zurück")
    records, more = queries.search(user, "jenoptik", 2)["notes"]
    assert records == [starting, inside[-1]] and more
    assert queries.search(user, "jenoptik", 5)["notes"][0] == [starting, *inside[:0:-1]]
    assert queries.search(user, "jenoptik werk süd", 5)["notes"] == ([oldest], False)


def test_hidden_notes_take_no_place_in_the_window(app, monkeypatch):
    """Newer notes on a confidential lead fill no part of a member's window: the member's own
    older note is still found, and nothing says more notes match."""
    monkeypatch.setattr(queries, "NOTES_WINDOW", 2)
    owner, member = make_user(name="Owner"), make_user(name="Member")
    organisation = make_organisation(name="Jenoptik AG")
    visible = make_activity(actor=member, subject=organisation, body="Jenoptik Rückruf")
    secret = make_lead(title="Projekt Nordlicht", is_confidential=True, owner_id=owner.id)
    hidden = [make_activity(actor=owner, subject=secret, body=f"Jenoptik geheim {n}")
              for n in range(3)]
    assert queries.search(member, "jenoptik", 5)["notes"] == ([visible], False)
    assert queries.search(owner, "jenoptik", 5)["notes"][0] == hidden[:0:-1]


def test_groups_and_more(app):
    user = make_user()
    organisation = make_organisation(name="Zeiss Jena GmbH", city="Jena")
    make_contact(first_name="Carl", last_name="Zeiß", organisation=organisation)
    lead = make_lead(title="Zeiss Erweiterung Jena", organisation=organisation)
    make_event(name="Zeiss-Werksbesuch", city="Jena")
    make_activity(actor=user, subject=lead, body="Gespräch mit Zeiss über das Grundstück")
    results = queries.search(user, "zeiss", 20)
    assert list(results) == ["contacts", "organisations", "leads", "events", "notes"]
    for records, more in results.values():
        assert len(records) == 1 and not more
    for n in range(3):
        make_contact(first_name=f"Zeiss {n}", last_name="Mitarbeiter", commit=False)
    db.session.commit()
    records, more = queries.search(user, "zeiss", 3)["contacts"]
    assert len(records) == 3 and more


def test_the_index_is_kept_in_step_with_every_change(people):
    user = make_user()
    contact = people["weiß"]
    contact_services.update_contact(contact, {"last_name": "Schulze"}, actor=None)
    db.session.commit()
    assert found(user, "weiss") == set()
    assert found(user, "schulze") == {contact}
    organisation = people["optonet"]
    organisation_services.update_organisation(organisation, {"name": "Photonik-Netz Jena"},
                                              actor=None)
    db.session.commit()
    assert found(user, "optonet", "organisations") == set()
    assert found(user, "photonik", "organisations") == {organisation}
    note = make_activity(actor=user, subject=contact, body="Besuch in Pößneck vereinbart")
    assert note.search_text == "besuch in possneck vereinbart"
    assert found(user, "possneck", "notes") == {note}
    activity_services.update_activity(note, {"body": "Besuch in Saalfeld"}, actor=user)
    db.session.commit()
    assert found(user, "possneck", "notes") == set()
    assert found(user, "saalfeld", "notes") == {note}
    db.session.delete(note)
    db.session.commit()
    assert found(user, "saalfeld", "notes") == set()


def test_deleted_records_are_not_found(people):
    user = make_user()
    contact_services.delete_contact(people["weiß"], actor=None)
    note = make_activity(actor=user, subject=people["jenoptik"], body="Jenoptik plant Halle 4")
    organisation_services.delete_organisation(people["jenoptik"], actor=None)
    db.session.commit()
    assert found(user, "weiss") == set()
    assert found(user, "jenoptik", "organisations") == set()
    assert note not in found(user, "halle", "notes")


def test_confidential_leads_and_their_notes_only_for_those_who_may_see_them(app):
    owner = make_user(name="Owner")
    member = make_user(name="Member")
    teammate = make_user(name="Teammate")
    manager = make_user(name="Manager", role="manager")
    lead = make_lead(title="Projekt Nordlicht", is_confidential=True, owner_id=owner.id)
    lead_services.update_lead(lead, {"team_member_ids": [teammate.id]}, actor=owner)
    note = make_activity(actor=owner, subject=lead, body="Nordlicht: Standortbesuch geplant")
    db.session.commit()
    for user in (owner, teammate, manager):
        assert found(user, "nordlicht", "leads") == {lead}, user.name
        assert found(user, "nordlicht", "notes") == {note}, user.name
    assert queries.search(member, "nordlicht", 20) == {}


def test_erased_people_and_their_notes_are_never_found(people):
    admin = make_user(role="admin")
    kim = people["kim"]
    note = make_activity(actor=admin, subject=kim, body="김민준 möchte Jena besuchen")
    privacy_services.erase_contact(kim, actor=admin, confirmed=True)
    db.session.commit()
    for q in ("김민준", "민준", "Kim", "min-jun", "jena besuchen"):
        assert queries.search(admin, q, 20) == {} or (
            kim not in found(admin, q) and note not in found(admin, q, "notes")), q


def test_the_page_groups_results_and_links_them(client, login, people):
    _user, client = login()
    html = client.get("/search?q=jena").get_data(as_text=True)
    assert 'id="found-organisations"' in html
    assert f'href="/organisations/{people["jenoptik"].id}"' in html
    html = client.get("/search?q=mueller").get_data(as_text=True)
    assert "Jürgen Müller" in html and f'href="/contacts/{people["müller"].id}"' in html
    assert "Jenoptik AG" in html  # the person's organisation beside the name
    html = client.get("/search?q=Schulze").get_data(as_text=True)
    assert "Nichts passt zu „Schulze“." in html


def test_as_the_user_types_only_the_results_come(client, login, people):
    _user, client = login()
    response = client.get("/search?q=mül", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="search-results"') and "<nav" not in html
    assert "Jürgen Müller" in html
    assert "HX-Request" in response.headers["Vary"]
    # Going back in the browser's history asks for the whole page.
    page = client.get("/search?q=mül", headers={"HX-Request": "true",
                                                   "HX-History-Restore-Request": "true"})
    assert "<nav" in page.get_data(as_text=True)


def test_the_box_in_the_navigation_suggests_the_first_matches(client, login, people):
    _user, client = login()
    html = client.get("/").get_data(as_text=True)
    assert 'hx-get="/search/suggest"' in html and 'aria-keyshortcuts="/"' in html
    html = client.get("/search/suggest?q=jen").get_data(as_text=True)
    assert f'href="/organisations/{people["jenoptik"].id}"' in html
    assert f'href="/contacts/{people["müller"].id}"' in html  # j.mueller@jenoptik...
    assert 'href="/search?q=jen"' in html
    assert client.get("/search/suggest?q=").get_data(as_text=True).strip() == ""
    html = client.get("/search/suggest?q=Schulze").get_data(as_text=True)
    assert "Nichts passt zu „Schulze“." in html


def test_a_note_shows_the_words_around_the_match():
    text = " ".join(f"Wort{n}" for n in range(100)) + " Grundstück in Gera " + \
        " ".join(f"Ende{n}" for n in range(100))
    piece = queries.excerpt(text, "grundstueck")
    assert "Grundstück in Gera" in piece
    assert piece.startswith("… ") and piece.endswith(" …")
    assert queries.excerpt("Kurz und gut", "gut") == "Kurz und gut"


def test_the_search_runs_the_same_queries_however_many_records(app, client, login,
                                                                 count_queries):
    author, client = login()

    def statements_for_a_search():
        with count_queries() as statements:
            assert client.get("/search?q=zeiss").status_code == 200
        return len(statements)

    def add(n):
        for i in range(n):
            organisation = make_organisation(name=f"Zeiss {i} {n}", commit=False)
            contact = make_contact(first_name=f"Zeiss{i}", last_name=f"N{n}",
                                   organisation=organisation, commit=False)
            make_lead(title=f"Zeiss Projekt {i} {n}", organisation=organisation, commit=False)
            make_activity(actor=author, subject=contact, body=f"Zeiss Notiz {i}", commit=False)
        db.session.commit()

    add(2)
    few = statements_for_a_search()
    add(25)
    assert statements_for_a_search() == few <= 12


def _plan(statement):
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN " if ON_POSTGRES else "EXPLAIN QUERY PLAN "
    with db.engine.connect() as connection:
        if ON_POSTGRES:  # a handful of rows: a table scan would always be cheapest
            connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(prefix + str(compiled)).all()
    return " ".join(str(value) for row in rows for value in row)


@pytest.mark.parametrize("table", ["contacts", "organisations", "leads", "events", "notes"])
def test_words_are_looked_up_in_the_index(people, table):
    """On SQLite, each group's select reads the full-text table. On PostgreSQL, whose planner
    weighs the index against the others by the table's size, the search conditions alone are
    answered from the trigram index (at a few rows every other way is cheaper)."""
    user = make_user()
    select = {"contacts": queries.contacts("mueller jurgen", 5),
              "organisations": queries.organisations("jenoptik", 5),
              "leads": queries.leads(user, "jenoptik", 5),
              "events": queries.events("jenoptik", 5),
              "notes": queries.notes(user, "jenoptik", 5)}[table]
    name = "activities" if table == "notes" else table
    if ON_POSTGRES:
        column = db.metadata.tables[name].c.search_text
        plan = _plan(sa.select(column.table.c.id).where(*matching_words(column, "mueller jen_")))
        assert f"Bitmap Index Scan on ix_{name}_search_trgm" in plan, plan
    else:
        plan = _plan(select)
        assert re.search(rf"SCAN {name}_fts VIRTUAL TABLE INDEX \d+:L", plan), plan


def test_the_lists_search_through_the_index_too(client, login, people):
    _user, client = login()
    html = client.get("/contacts?q=wojcik").get_data(as_text=True)
    assert "Agnieszka Wójcik" in html and "Jürgen Müller" not in html
    html = client.get("/contacts?q=小明").get_data(as_text=True)  # two characters: no trigram
    assert "王小明" in html and "Wójcik" not in html
    html = client.get("/organisations?q=JENO").get_data(as_text=True)
    assert "Jenoptik AG" in html and "OptoNet" not in html
