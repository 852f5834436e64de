"""Fake data at the scale of an agency that has worked for years (`flask --app wsgi crm
generate`), for measuring speed: organisations with their sectors, people with their
affiliations (German names with umlauts, Korean names in Hangul, Chinese names in characters,
Polish names with accents, American names), events and trips with attendees, leads in every
stage and status with their stage history, people and team, and notes and follow-ups.

The same seed gives the same data. Rows are written with one statement per table and batch
(`BATCH_ROWS`), in id ranges reserved up front, with the keys the services would derive (sort
and search columns), so that the pages behave as with data typed in; the audit log is left
out (these are no one's changes)."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm.activities.models import Activity, ActivityKind
from crm.auth import services as auth_services
from crm.auth.models import User
from crm.contacts.models import Affiliation, Contact, LegalBasis, name_keys
from crm.core.fulltext import indexed_in_bulk
from crm.core.sql import reserve_ids
from crm.core.text import organisation_match_key, search_key, sort_key
from crm.events.models import Attendance, AttendanceStatus, Event, EventKind
from crm.extensions import db
from crm.leads.models import (
    BusinessActivity,
    InvestmentType,
    Lead,
    LeadSource,
    Likelihood,
    Stage,
    StageChange,
    Status,
    lead_contacts,
    lead_team_members,
)
from crm.organisations.models import Organisation, OrganisationKind, OrganisationSector, Sector

BATCH_ROWS = 5_000
# Notes are committed this many at a time (a million in one transaction would spill to disk).
TRANSACTION_ROWS = 100_000
# The benchmark scale of the design.
DEFAULT_CONTACTS = 200_000
TEAM_DOMAIN = "team.generated.example"
TEAM_SIZE = 8
EPOCH = datetime(2018, 1, 1, tzinfo=UTC)

# (first names, family names, Latin spellings or None, country, cities, email domain ending)
CULTURES = [
    (["Jürgen", "Anna", "Jörg", "Käthe", "Björn", "Sören", "Lena", "Matthias", "Ülrike",
      "Stefan", "Sabine", "Thomas", "Andrea", "Günter", "Maximilian", "Özlem"],
     ["Müller", "Schäfer", "Weiß", "Groß", "Köhler", "Schröder", "Krüger", "Böhm", "Hoffmann",
      "Fischer", "Wagner", "Becker", "Schulze", "Möller", "Lehmann", "Straßburger"],
     None, "DE", ["Jena", "Erfurt", "Weimar", "Gera", "Ilmenau", "München", "Düsseldorf"], "de"),
    (["민정", "지호", "서연", "민준", "하은", "도윤", "수빈", "예준"],
     ["김", "이", "박", "최", "정", "강", "조", "윤"],
     {"민정": "Min-jung", "지호": "Ji-ho", "서연": "Seo-yeon", "민준": "Min-jun", "하은": "Ha-eun",
      "도윤": "Do-yun", "수빈": "Su-bin", "예준": "Ye-jun", "김": "Kim", "이": "Lee",
      "박": "Park", "최": "Choi", "정": "Jung", "강": "Kang", "조": "Cho", "윤": "Yoon"},
     "KR", ["Seoul", "Busan", "Incheon", "Suwon", "Daejeon"], "kr"),
    (["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"],
     ["张", "王", "李", "刘", "陈", "杨", "黄", "赵"],
     {"伟": "Wei", "芳": "Fang", "娜": "Na", "敏": "Min", "静": "Jing", "磊": "Lei",
      "洋": "Yang", "勇": "Yong", "张": "Zhang", "王": "Wang", "李": "Li", "刘": "Liu",
      "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao"},
     "CN", ["Shanghai", "Beijing", "Shenzhen", "Suzhou", "Hefei"], "cn"),
    (["Michael", "Jennifer", "David", "Sarah", "Robert", "Emily", "James", "Jessica"],
     ["Smith", "Johnson", "Miller", "Davis", "O'Brien", "Anderson", "Taylor", "Moore"],
     None, "US", ["Boston", "Detroit", "San Jose", "Austin", "Chicago"], "com"),
    (["Łukasz", "Agnieszka", "Wojciech", "Małgorzata", "Paweł", "Zofia"],
     ["Wójcik", "Kowalski", "Nowak", "Wiśniewska", "Dąbrowski", "Zieliński"],
     None, "PL", ["Kraków", "Wrocław", "Łódź", "Gdańsk"], "pl"),
]
CULTURE_WEIGHTS = [50, 15, 15, 12, 8]
COMPANY_WORDS = ["Präzisionsoptik", "Sensorik", "Photonics", "Batterietechnik", "Medizintechnik",
                 "Automotive Systems", "Laser", "Halbleiter", "Robotics", "Biotech", "Logistik",
                 "Maschinenbau", "Software", "Mikroelektronik", "Solar", "Werkstoffe",
                 "Antriebstechnik", "Messtechnik", "Life Sciences", "Data Services"]
LEGAL_FORMS = {"DE": ["GmbH", "AG", "GmbH & Co. KG", "SE"], "KR": ["Co., Ltd."],
               "CN": ["Co., Ltd.", "Technology Co., Ltd."], "US": ["Inc.", "LLC", "Corp."],
               "PL": ["Sp. z o.o.", "S.A."]}
POSITIONS = ["Geschäftsführer", "CEO", "Head of Business Development", "Leiterin Einkauf",
             "CFO", "Director Europe", "Standortleiter", "Projektleiterin Expansion",
             "Vice President Operations", "Referentin Außenwirtschaft", None]
EVENT_NAMES = {
    EventKind.TRIP: "Delegationsreise",
    EventKind.BUSINESS_BREAKFAST: "Business Breakfast",
    EventKind.NETWORKING: "Netzwerkabend",
    EventKind.INVESTOR_SEMINAR: "Investorenseminar",
    EventKind.COMPANY_VISIT: "Unternehmensbesuch",
    EventKind.TRADE_FAIR: "Messeauftritt",
    EventKind.RECEPTION: "Thüringen-Abend",
    EventKind.WEBINAR: "Webinar Standort Thüringen",
    EventKind.OTHER: "Fachgespräch",
}
NOTE_TEXTS = [
    ("Telefonat mit {name}: Interesse an einer Fläche in {city}, Unterlagen zur Förderung "
     "geschickt."),
    "Treffen mit {name} bei {organisation}: Erweiterung der Fertigung wird geprüft.",
    "{name} fragt nach Fachkräften und Hochschulkooperationen in {city}.",
    "E-Mail an {name}: Standortvergleich und Ansprechpartner der Landesentwicklung.",
    "Besuch bei {organisation}; {name} stellt das Vorhaben dem Vorstand im Herbst vor.",
    "Nachfassen bei {name}: Entscheidung über den Standort verschoben.",
]
STAGE_WEIGHTS = {Stage.LEAD: 35, Stage.PROSPECT: 25, Stage.ACTIVE: 20, Stage.DECISION: 10,
                 Stage.WON: 10}
_KINDS = [kind.value for kind in ActivityKind]
OPEN_STATUS_WEIGHTS = {Status.ONGOING: 62, Status.DELAYED: 10, Status.DORMANT: 8,
                       Status.LOST: 12, Status.ABANDONED: 8}


@dataclass
class Sizes:
    organisations: int
    contacts: int
    events: int
    leads: int
    activities: int

    @classmethod
    def for_contacts(cls, contacts, **given):
        """The sizes of the design's benchmark, in proportion to `contacts`, unless given."""
        sizes = {"organisations": contacts // 4, "events": max(contacts // 500, 1),
                 "leads": contacts // 2, "activities": contacts * 5}
        sizes.update({name: value for name, value in given.items() if value is not None})
        return cls(contacts=contacts, **sizes)


def generate(sizes, *, seed=1, progress=lambda table, count: None):
    """Add fake data of `sizes` to the database, committed table by table (the notes a
    `TRANSACTION_ROWS` at a time); returns the counts."""
    rng = random.Random(seed)
    team = _team()
    db.session.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    with indexed_in_bulk(Organisation.__table__):
        organisations = _organisations(rng, sizes.organisations, team, now)
    db.session.commit()
    progress("organisations", len(organisations))
    with indexed_in_bulk(Contact.__table__):
        people = _contacts(rng, sizes.contacts, organisations, team, now)
    db.session.commit()
    progress("contacts", len(people))
    with indexed_in_bulk(Event.__table__):
        events = _events(rng, sizes.events, people, team, now)
    db.session.commit()
    progress("events", len(events))
    with indexed_in_bulk(Lead.__table__):
        leads = _leads(rng, sizes.leads, organisations, people, events, team, now)
    db.session.commit()
    progress("leads", len(leads))
    written = _activities(rng, sizes.activities, people, leads, team, now)
    progress("activities", written)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # The planner's statistics and the map of rows every transaction sees (which lets a
        # count or a list read an index alone), which autovacuum would make only some time
        # later. VACUUM runs outside a transaction.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE"))
    return {"organisations": len(organisations), "contacts": len(people),
            "events": len(events), "leads": len(leads), "activities": written}


def _insert(table_or_statement, rows):
    """Write `rows` into a table (or with an UPDATE statement), `BATCH_ROWS` at a time."""
    statement = sa.insert(table_or_statement) if isinstance(table_or_statement, sa.Table) \
        else table_or_statement
    for start in range(0, len(rows), BATCH_ROWS):
        db.session.execute(statement, rows[start:start + BATCH_ROWS])


def _moment(rng, start, end):
    return start + timedelta(seconds=rng.randrange(max(int((end - start).total_seconds()), 1)))


def _team():
    """The team that owns and writes: the active users, with generated colleagues added
    until there are `TEAM_SIZE` (who cannot log in before an admin resets their password)."""
    users = db.session.scalars(sa.select(User).where(User.is_active.is_(True))
                               .order_by(User.id)).all()
    for n in range(len(users), TEAM_SIZE):
        email = f"kollege{n + 1}@{TEAM_DOMAIN}"
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user, _ = auth_services.create_user(email=email, name=f"Kollegin {n + 1}",
                                                role="manager" if n == 0 else "member",
                                                actor=None)
        users.append(user)
    db.session.flush()
    return [user.id for user in users]


@dataclass
class _Organisation:
    id: int
    name: str
    country: str
    city: str
    sector: str
    kind: str


def _organisations(rng, count, team, now):
    ids = reserve_ids(Organisation.__table__, count)
    rows, sectors, made, used = [], [], [], set()
    sector_values = [s.value for s in Sector]
    for organisation_id in ids:
        culture = rng.choices(CULTURES, CULTURE_WEIGHTS)[0]
        _, family_names, latin, country, cities, _ = culture
        family = rng.choice(family_names)
        stem = latin.get(family, family) if latin else family
        city = rng.choice(cities)
        kind = rng.choices([OrganisationKind.INVESTOR, OrganisationKind.PARTNER,
                            OrganisationKind.UNIVERSITY, OrganisationKind.PUBLIC_BODY,
                            OrganisationKind.CHAMBER, OrganisationKind.OTHER],
                           [80, 6, 4, 4, 3, 3])[0].value
        name = f"{stem} {rng.choice(COMPANY_WORDS)} {rng.choice(LEGAL_FORMS[country])}"
        if name in used:
            name = f"{stem} {rng.choice(COMPANY_WORDS)} {city} {rng.choice(LEGAL_FORMS[country])}"
        if name in used:
            name = f"{stem} {rng.choice(COMPANY_WORDS)} {organisation_id}"
        used.add(name)
        created = _moment(rng, EPOCH, now)
        rows.append({
            "id": organisation_id, "name": name, "kind": kind, "country": country,
            "city": city, "address": None,
            "website": f"https://www.{sort_key(stem).replace(' ', '')}-{organisation_id}.example",
            "description": None, "parent_id": None, "name_sort": sort_key(name)[:300],
            "search_text": search_key(name, city), "match_key": organisation_match_key(name),
            "created_at": created, "updated_at": created, "created_by_id": rng.choice(team),
            "deleted_at": None, "version": 1})
        sector = rng.choice(sector_values)
        sectors.append({"organisation_id": organisation_id, "sector": sector})
        made.append(_Organisation(organisation_id, name, country, city, sector, kind))
    _insert(Organisation.__table__, rows)
    _insert(OrganisationSector.__table__, sectors)
    return made


@dataclass
class _Person:
    id: int
    name: str
    organisation: _Organisation | None


def _contacts(rng, count, organisations, team, now):
    ids = reserve_ids(Contact.__table__, count)
    rows, affiliations, made = [], [], []
    legal_bases = [b.value for b in LegalBasis]
    for contact_id in ids:
        culture = rng.choices(CULTURES, CULTURE_WEIGHTS)[0]
        first_names, family_names, latin, country, _, domain = culture
        first, family = rng.choice(first_names), rng.choice(family_names)
        latin_name = f"{latin[family]} {latin[first]}" if latin else None
        ascii_name = sort_key(f"{latin[first]}.{latin[family]}" if latin else
                              f"{first}.{family}").replace(" ", "").replace("'", "")
        email = f"{ascii_name}.{contact_id}@example.{domain}"
        organisation = rng.choice(organisations) if organisations and rng.random() < 0.9 \
            else None
        created = _moment(rng, EPOCH, now)
        values = {
            "id": contact_id, "first_name": first, "last_name": family,
            "latin_name": latin_name, "academic_title": "Dr." if rng.random() < 0.08 else None,
            "position": rng.choice(POSITIONS), "email": email,
            "phone": f"+49361{rng.randrange(1_000_000, 9_999_999)}"
            if rng.random() < 0.6 else None,
            "mobile": None, "language": {"DE": "de", "KR": "ko", "CN": "zh", "PL": "pl"}.get(
                country, "en"),
            "owner_id": rng.choice(team), "legal_basis": rng.choice(legal_bases),
            "source": "Generiert", "informed_on": None,
            "marketing_consent": rng.random() < 0.3, "do_not_contact": rng.random() < 0.02,
            "retention_reviewed_on": None, "erased_at": None, "created_at": created,
            "updated_at": created, "created_by_id": rng.choice(team), "deleted_at": None,
            "version": 1, **name_keys(first, family, latin_name, email, [])}
        rows.append(values)
        if organisation is not None:
            affiliations.append({"contact_id": contact_id, "organisation_id": organisation.id,
                                 "role": values["position"], "is_current": True,
                                 "created_at": created, "updated_at": created})
        name = f"{first} {family}" if not latin else f"{family}{first}"
        made.append(_Person(contact_id, name, organisation))
    _insert(Contact.__table__, rows)
    _insert(Affiliation.__table__, affiliations)
    return made


def _events(rng, count, people, team, now):
    ids = reserve_ids(Event.__table__, count)
    rows, attendances = [], []
    statuses = [s.value for s in AttendanceStatus]
    for event_id in ids:
        kind = rng.choice(list(EVENT_NAMES))
        culture = rng.choices(CULTURES, CULTURE_WEIGHTS)[0]
        city, country = rng.choice(culture[4]), culture[3]
        starts = _moment(rng, EPOCH, now).date()
        ends = starts + timedelta(days=rng.randrange(4, 9) if kind == EventKind.TRIP else 0)
        name = f"{EVENT_NAMES[kind]} {city} {starts.year}"
        created = datetime.combine(starts, datetime.min.time(), UTC) - timedelta(days=30)
        rows.append({
            "id": event_id, "name": name, "kind": kind.value, "starts_on": starts,
            "ends_on": ends, "city": city, "country": country, "description": None,
            "cost_eur": rng.randrange(2_000, 90_000), "parent_id": None,
            "name_sort": sort_key(name)[:300], "search_text": search_key(name, city),
            "created_at": created, "updated_at": created, "created_by_id": rng.choice(team),
            "deleted_at": None, "version": 1})
        for person in rng.sample(people, min(len(people), rng.randrange(20, 200))):
            attendances.append({"event_id": event_id, "contact_id": person.id,
                                "status": rng.choice(statuses), "created_at": created,
                                "updated_at": created, "created_by_id": rng.choice(team)})
    _insert(Event.__table__, rows)
    _insert(Attendance.__table__, attendances)
    return ids


@dataclass
class _Lead:
    id: int
    organisation: _Organisation
    created: datetime
    contact_ids: list


def _leads(rng, count, organisations, people, events, team, now):
    if not organisations:
        return []
    ids = reserve_ids(Lead.__table__, count)
    by_organisation = {}
    for person in people:
        if person.organisation is not None:
            by_organisation.setdefault(person.organisation.id, []).append(person.id)
    partners = [o for o in organisations if o.kind == OrganisationKind.PARTNER] or organisations
    rows, changes, contacts, members, made = [], [], [], [], []
    stages, open_statuses = list(STAGE_WEIGHTS), list(OPEN_STATUS_WEIGHTS)
    for n, lead_id in enumerate(ids):
        organisation = rng.choice(organisations)
        # Every stage and status appears however few the leads.
        stage = stages[n] if n < len(stages) else rng.choices(stages,
                                                              STAGE_WEIGHTS.values())[0]
        if stage == Stage.WON:
            status = Status.WON
        elif n < len(stages) + len(open_statuses):
            status = open_statuses[(n - len(stages)) % len(open_statuses)]
        else:
            status = rng.choices(open_statuses, OPEN_STATUS_WEIGHTS.values())[0]
        created = _moment(rng, EPOCH, now - timedelta(days=1))
        entered = _moment(rng, created, now)
        closed = status in (Status.WON, Status.LOST, Status.ABANDONED)
        investment = rng.choice(list(InvestmentType))
        title = f"{organisation.name}: {investment.label} {organisation.city}"
        site = rng.choice(["Erfurter Kreuz", "Jena-Tatzend", "Ilmenau Ehrenberg",
                           "Gera-Cretzschwitz"]) if stage in (Stage.DECISION, Stage.WON) \
            else None
        source = rng.choice(list(LeadSource))
        owner = rng.choice(team)
        decided = stage in (Stage.DECISION, Stage.WON)  # with what those stages require
        capex = rng.randrange(1, 400) * 500_000 if decided or rng.random() < 0.8 else None
        jobs = rng.randrange(5, 600) if decided or rng.random() < 0.8 else None
        safeguarded = rng.randrange(0, 300) if decided else None
        rows.append({
            "id": lead_id, "title": title, "organisation_id": organisation.id,
            "stage": stage.value, "status": status.value, "stage_entered_at": entered,
            "last_activity_at": None, "owner_id": owner, "sector": organisation.sector,
            "country": organisation.country, "investment_type": investment.value,
            "business_activity": rng.choice(list(BusinessActivity)).value,
            "is_new_investor": rng.random() < 0.6, "description": None,
            "capex_eur": capex, "capex_is_estimate": capex is not None and rng.random() < 0.5,
            "capex_unknown": capex is None, "new_jobs": jobs,
            "new_jobs_is_estimate": jobs is not None and rng.random() < 0.5,
            "new_jobs_unknown": jobs is None, "safeguarded_jobs": safeguarded,
            "safeguarded_jobs_is_estimate": False,
            "safeguarded_jobs_unknown": safeguarded is None,
            "realised_capex_eur": capex if stage == Stage.WON else None,
            "realised_new_jobs": jobs if stage == Stage.WON else None,
            "realised_safeguarded_jobs": None,
            "likelihood": rng.choice(list(Likelihood)).value,
            "expected_decision_on": (entered + timedelta(days=rng.randrange(30, 400))).date(),
            "candidate_sites": None, "competing_locations": None, "chosen_site": site,
            "decided_on": entered.date() if decided else None,
            "source": source.value,
            "source_event_id": rng.choice(events) if events and source in (
                LeadSource.EVENT, LeadSource.TRIP) else None,
            "referral_partner_id": rng.choice(partners).id
            if source == LeadSource.PARTNER_REFERRAL else None,
            "is_confidential": rng.random() < 0.05,
            "lost_reason": "Standortentscheidung für einen Wettbewerber"
            if status == Status.LOST else None,
            "closed_on": entered.date() if closed else None,
            "lost_to": "Sachsen" if status == Status.LOST else None,
            "won_confirmed_by_id": next((u for u in team if u != owner), owner)
            if stage == Stage.WON else None,
            "won_confirmed_at": entered if stage == Stage.WON else None,
            "title_sort": sort_key(title)[:300],
            "search_text": search_key(title, organisation.name, site),
            "created_at": created, "updated_at": entered, "created_by_id": owner,
            "deleted_at": None, "version": 1})
        changes.append({"lead_id": lead_id, "from_stage": None, "to_stage": Stage.LEAD.value,
                        "from_status": None, "to_status": Status.ONGOING.value,
                        "changed_at": created, "changed_by_id": owner,
                        "override_reason": None})
        if (stage, status) != (Stage.LEAD, Status.ONGOING):
            changes.append({"lead_id": lead_id, "from_stage": Stage.LEAD.value,
                            "to_stage": stage.value, "from_status": Status.ONGOING.value,
                            "to_status": status.value, "changed_at": entered,
                            "changed_by_id": owner, "override_reason": None})
        known = by_organisation.get(organisation.id, [])
        chosen = rng.sample(known, min(len(known), rng.randrange(1, 3)))
        contacts += [{"lead_id": lead_id, "contact_id": contact_id} for contact_id in chosen]
        members.append({"lead_id": lead_id, "user_id": owner})
        made.append(_Lead(lead_id, organisation, created, chosen))
    _insert(Lead.__table__, rows)
    _insert(StageChange.__table__, changes)
    _insert(lead_contacts, contacts)
    _insert(lead_team_members, members)
    return made


def _activities(rng, count, people, leads, team, now):
    """Notes and follow-ups, `TRANSACTION_ROWS` to a transaction, written a batch at a time
    (a million do not fit in memory as rows); each lead's last activity is set at the end."""
    if not people and not leads:
        return 0
    last_activity = {}
    for chunk in range(0, count, TRANSACTION_ROWS):
        with indexed_in_bulk(Activity.__table__):
            for start in range(chunk, min(count, chunk + TRANSACTION_ROWS), BATCH_ROWS):
                ids = reserve_ids(Activity.__table__, min(BATCH_ROWS, count - start))
                _insert(Activity.__table__, [
                    _activity(rng, activity_id, people, leads, team, now, last_activity)
                    for activity_id in ids])
        db.session.commit()
    table = Lead.__table__
    statement = sa.update(table).where(table.c.id == sa.bindparam("lead_id")).values(
        last_activity_at=sa.bindparam("moment"))
    _insert(statement, [{"lead_id": lead_id, "moment": moment}
                        for lead_id, moment in last_activity.items()])
    db.session.commit()
    return count


def _activity(rng, activity_id, people, leads, team, now, last_activity):
    """One note (on a lead, 30 %, else on a person), a follow-up in one case of seven."""
    lead = rng.choice(leads) if leads and rng.random() < 0.3 else None
    if lead is not None:
        organisation = lead.organisation
        contact_id = rng.choice(lead.contact_ids) if lead.contact_ids else None
        name = organisation.name
        occurred = _moment(rng, lead.created, now)
        if occurred > last_activity.get(lead.id, EPOCH):
            last_activity[lead.id] = occurred
    else:
        person = rng.choice(people)
        organisation, contact_id, name = person.organisation, person.id, person.name
        occurred = _moment(rng, EPOCH, now)
    body = rng.choice(NOTE_TEXTS).format(
        name=name, organisation=organisation.name if organisation else "der Firma",
        city=organisation.city if organisation else "Erfurt")
    due, assignee, done_at, done_by = None, None, None, None
    if rng.random() < 0.15:
        due = occurred.date() + timedelta(days=rng.randrange(1, 60))
        assignee = rng.choice(team)
        if due < now.date() and rng.random() < 0.8:
            done_at = min(datetime.combine(due, datetime.min.time(), UTC), now)
            done_by = assignee
    return {"id": activity_id, "kind": rng.choice(_KINDS), "body": body,
            "occurred_at": occurred, "author_id": rng.choice(team),
            "organisation_id": organisation.id if organisation else None,
            "contact_id": contact_id, "event_id": None, "lead_id": lead.id if lead else None,
            "due_on": due, "assignee_id": assignee, "done_at": done_at, "done_by_id": done_by,
            "deleted_at": None, "search_text": search_key(body), "created_at": occurred,
            "updated_at": occurred, "version": 1}
