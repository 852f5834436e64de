"""The manager reports as read-only queries: results, pipeline, conversion, losses, trips and
events, partners, and the team's follow-up.

Every figure counts only leads the acting user may see (`crm.leads.queries.visible`); with
`Scope.own` (members) only the leads they own or work on, and only their own follow-ups. Each
section is a handful of grouped queries, folded here into plain rows: no query per row.

Periods are days in the agency's time zone: a lead won on 31 December at 23:30 in Berlin
counts for that year, one won at 00:30 on 1 January for the next.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from crm.activities.models import Activity
from crm.activities.queries import visible_activities
from crm.auth.models import User
from crm.contacts.models import Contact
from crm.core.models import local_zone
from crm.core.sql import days_between, shifted_day
from crm.events.models import Attendance, Event, event_partners
from crm.events.queries import MET, is_new_contact
from crm.extensions import db
from crm.leads.models import Lead, Stage, StageChange, Status, lead_team_members
from crm.leads.queries import (
    brought_by_partner,
    home_country,
    is_open,
    quiet_since_conditions,
    visible,
    weighted_capex_column,
    won_in_moments,
)
from crm.organisations.models import Organisation

CLOSED_LOST = (Status.LOST.value, Status.ABANDONED.value)
DECISIONS_AHEAD_DAYS = 90
LIST_LIMIT = 50
MAX_STALLED_DAYS = 3650
# The years a report period may span: wide enough for any real history, narrow enough that the
# period before it and its moments in UTC stay valid dates.
FIRST_YEAR, LAST_YEAR = 1900, 2200
ORIGINS = ("domestic", "foreign", "unknown")


# -- Filters and periods -------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self):
        return (self.end - self.start).days + 1

    def previous(self):
        """The period before: the previous year, quarter or run of whole months, else as many
        days just before."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            months = ((self.end.year - self.start.year) * 12 + self.end.month
                      - self.start.month + 1)
            start = self.start - relativedelta(months=months)
            return Period(start, self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def moments(self):
        """The period as [from, to) moments in UTC, from local midnight to local midnight."""
        zone = local_zone()
        return (datetime.combine(self.start, time(0), tzinfo=zone).astimezone(UTC),
                datetime.combine(self.end + timedelta(days=1), time(0),
                                 tzinfo=zone).astimezone(UTC))


def year(number):
    return Period(date(number, 1, 1), date(number, 12, 31))


def quarter(number, which):
    start = date(number, 3 * which - 2, 1)
    return Period(start, start + relativedelta(months=3) - timedelta(days=1))


@dataclass(frozen=True)
class Filters:
    """What every report is filtered by. `own_user_id` limits everything to one member's
    leads and follow-ups (members see only their own figures)."""

    period: Period
    today: date
    sector: str | None = None
    country: str | None = None
    owner_id: int | None = None
    event_id: int | None = None
    partner_id: int | None = None
    own_user_id: int | None = None
    stalled_days: int = 30

    def key(self):
        return tuple(sorted((name, str(value)) for name, value in self.__dict__.items()))


def event_and_children(event_id):
    return sa.select(Event.id).where(sa.or_(Event.id == event_id, Event.parent_id == event_id))


def own(user_id):
    on_team = sa.select(lead_team_members.c.lead_id).where(lead_team_members.c.user_id == user_id)
    return sa.or_(Lead.owner_id == user_id, Lead.id.in_(on_team))


def lead_conditions(user, filters):
    """The conditions for the leads a report counts (before its own period and stage)."""
    conditions = [visible(user)]
    for column, value in ((Lead.sector, filters.sector), (Lead.country, filters.country),
                          (Lead.owner_id, filters.owner_id)):
        if value:
            conditions.append(column == value)
    if filters.event_id:
        conditions.append(Lead.source_event_id.in_(event_and_children(filters.event_id)))
    if filters.partner_id:
        conditions.append(brought_by_partner(filters.partner_id))
    if filters.own_user_id:
        conditions.append(own(filters.own_user_id))
    return conditions


def won_in(period):
    return won_in_moments(*period.moments())


def created_in(period):
    start, end = period.moments()
    return sa.and_(Lead.created_at >= start, Lead.created_at < end)


# -- Figures ---------------------------------------------------------------------------------

@dataclass
class Figures:
    """Count and value of a set of leads; realised figures where known."""

    count: int = 0
    capex_eur: int = 0
    new_jobs: int = 0
    safeguarded_jobs: int = 0
    weighted_capex: int = 0
    realised_count: int = 0
    # The planned figures of the leads with realised ones, to set beside them.
    planned_of_realised_capex_eur: int = 0
    planned_of_realised_new_jobs: int = 0
    planned_of_realised_safeguarded_jobs: int = 0
    realised_capex_eur: int = 0
    realised_new_jobs: int = 0
    realised_safeguarded_jobs: int = 0

    def add(self, row, prefix=""):
        """Add the figures of a query row (its columns named as here, after `prefix`) or of
        another `Figures`."""
        for name in self.__dataclass_fields__:
            value = getattr(row, prefix + name, None)
            if value is not None:
                setattr(self, name, getattr(self, name) + round(value))
        return self

    @property
    def jobs(self):
        return self.new_jobs + self.safeguarded_jobs


def figure_columns(condition=None, prefix=""):
    """The aggregate columns behind `Figures`, for any grouped query over leads; with
    `condition`, only of the leads meeting it (labelled with `prefix`)."""
    realised = sa.or_(Lead.realised_capex_eur.isnot(None), Lead.realised_new_jobs.isnot(None),
                      Lead.realised_safeguarded_jobs.isnot(None))

    def summed(expression, name):
        if condition is not None:
            expression = sa.case((condition, expression), else_=None)
        return sa.func.coalesce(sa.func.sum(expression), 0).label(prefix + name)

    return [summed(sa.literal(1), "count"),
            summed(Lead.capex_eur, "capex_eur"),
            summed(Lead.new_jobs, "new_jobs"),
            summed(Lead.safeguarded_jobs, "safeguarded_jobs"),
            summed(weighted_capex_column(), "weighted_capex"),
            summed(sa.case((realised, 1), else_=0), "realised_count"),
            summed(sa.case((realised, Lead.capex_eur)), "planned_of_realised_capex_eur"),
            summed(sa.case((realised, Lead.new_jobs)), "planned_of_realised_new_jobs"),
            summed(sa.case((realised, Lead.safeguarded_jobs)),
                   "planned_of_realised_safeguarded_jobs"),
            summed(Lead.realised_capex_eur, "realised_capex_eur"),
            summed(Lead.realised_new_jobs, "realised_new_jobs"),
            summed(Lead.realised_safeguarded_jobs, "realised_safeguarded_jobs")]


@dataclass
class Split:
    """One line of a split: its key (an enum value, a country code, `None` for not given) with
    the figures of the period and of the period before."""

    key: str | None
    current: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)


def _splits(rows, key_of):
    splits = {}
    for row in rows:
        split = splits.setdefault(key_of(row), Split(key_of(row)))
        (split.current if row.period == "current" else split.previous).add(row)
    return sorted(splits.values(), key=lambda s: (-s.current.capex_eur, -s.current.count,
                                                  -s.previous.count, s.key or "~"))


# -- 1. Results ------------------------------------------------------------------------------

@dataclass
class Results:
    period: Period
    previous_period: Period
    total: Split
    by_investment_type: list
    by_origin: list
    by_country: list
    by_sector: list


def results(user, filters):
    """Leads won in the period and in the one before, split four ways: one grouped query for
    each period."""
    period, previous = filters.period, filters.period.previous()
    rows = []
    for which, span in (("current", period), ("previous", previous)):
        rows += [_Row(which, row) for row in db.session.execute(
            sa.select(Lead.investment_type, Lead.country, Lead.sector, *figure_columns())
            .where(*lead_conditions(user, filters), won_in(span))
            .group_by(Lead.investment_type, Lead.country, Lead.sector))]
    total = Split("total")
    for row in rows:
        (total.current if row.period == "current" else total.previous).add(row)
    return Results(period=period, previous_period=previous, total=total,
                   by_investment_type=_splits(rows, lambda r: r.investment_type),
                   by_origin=_splits(rows, lambda r: origin_of(r.country)),
                   by_country=_splits(rows, lambda r: r.country),
                   by_sector=_splits(rows, lambda r: r.sector))


class _Row:
    """A query row marked with the period it belongs to."""

    def __init__(self, period, row):
        self.period, self._row = period, row

    def __getattr__(self, name):
        return getattr(self._row, name)


def origin_of(country):
    if country is None:
        return "unknown"
    return "domestic" if country == home_country() else "foreign"


# -- 2. Pipeline -----------------------------------------------------------------------------

@dataclass
class Pipeline:
    by_stage: dict              # stage -> Figures
    by_sector: dict             # sector -> {stage -> Figures}
    by_country: dict            # country -> {stage -> Figures}
    total: Figures
    decisions_ahead: list       # leads expecting a decision in the next 90 days
    decisions_ahead_count: int


OPEN_STAGES = [stage for stage in Stage if stage is not Stage.WON]


def pipeline(user, filters):
    """Open leads now, by stage, crossed with sector and country (one grouped query), and the
    decisions expected in the next 90 days (one query, and one count)."""
    conditions = [*lead_conditions(user, filters), is_open()]
    rows = db.session.execute(
        sa.select(Lead.stage, Lead.sector, Lead.country, *figure_columns())
        .where(*conditions).group_by(Lead.stage, Lead.sector, Lead.country)).all()
    by_stage = {stage.value: Figures() for stage in OPEN_STAGES}
    by_sector = defaultdict(lambda: defaultdict(Figures))
    by_country = defaultdict(lambda: defaultdict(Figures))
    total = Figures()
    for row in rows:
        by_stage.setdefault(row.stage, Figures()).add(row)
        by_sector[row.sector][row.stage].add(row)
        by_country[row.country][row.stage].add(row)
        total.add(row)
    ahead = [*conditions, Lead.expected_decision_on >= filters.today,
             Lead.expected_decision_on <= decisions_ahead_until(filters.today)]
    decisions = db.session.scalars(
        sa.select(Lead).where(*ahead)
        .options(sa.orm.joinedload(Lead.owner), sa.orm.joinedload(Lead.organisation))
        .order_by(Lead.expected_decision_on, Lead.id).limit(LIST_LIMIT)).all()
    count = db.session.scalar(sa.select(sa.func.count(Lead.id)).where(*ahead))
    return Pipeline(by_stage=by_stage, by_sector=_by_total(by_sector),
                    by_country=_by_total(by_country), total=total,
                    decisions_ahead=decisions, decisions_ahead_count=count)


def decisions_ahead_until(today):
    return today + timedelta(days=DECISIONS_AHEAD_DAYS)


def _by_total(crossed):
    """{key: {stage: Figures, "total": Figures}}, the largest CAPEX first."""
    result = {}
    for key, stages in crossed.items():
        total = Figures()
        for figures in stages.values():
            total.add(figures)
        result[key] = {**stages, "total": total}
    return dict(sorted(result.items(),
                       key=lambda item: (-item[1]["total"].capex_eur, -item[1]["total"].count,
                                         item[0] or "~")))


# -- 3. Conversion and speed -----------------------------------------------------------------

def stage_position(column):
    return sa.case(*[(column == stage.value, index) for index, stage in enumerate(Stage)],
                   else_=0)


@dataclass
class Conversion:
    reached: dict               # stage -> number of leads that reached it
    share_to_next: dict         # stage -> share (0..1) of those that reached the next, or None
    median_days: dict           # stage -> median days of completed stays, or None
    stays: dict                 # stage -> number of completed stays the median is made of
    stalled: list               # (lead, last activity moment or None)
    stalled_count: int
    stalled_per_owner: list     # (user id or None, name or None, count)


def conversion(user, filters):
    """Of the leads created in the period: how many reached each stage, the share that went on
    to the next, the median days of a stay in each stage (stays that ended), and the open leads
    without any activity for `stalled_days` days with their owners."""
    cohort = sa.select(Lead.id).where(*lead_conditions(user, filters),
                                      created_in(filters.period))
    furthest = (sa.select(StageChange.lead_id,
                          sa.func.max(stage_position(StageChange.to_stage)).label("furthest"))
                .where(StageChange.lead_id.in_(cohort)).group_by(StageChange.lead_id)
                .subquery())
    counts = dict(db.session.execute(
        sa.select(furthest.c.furthest, sa.func.count()).group_by(furthest.c.furthest)).all())
    stages = list(Stage)
    reached = {stage.value: sum(n for position, n in counts.items() if position >= index)
               for index, stage in enumerate(stages)}
    share = {}
    for index, stage in enumerate(stages[:-1]):
        base = reached[stage.value]
        share[stage.value] = reached[stages[index + 1].value] / base if base else None
    medians, stays = _median_days(cohort)
    stalled, stalled_count, per_owner = _stalled(user, filters)
    return Conversion(reached=reached, share_to_next=share, median_days=medians, stays=stays,
                      stalled=stalled, stalled_count=stalled_count, stalled_per_owner=per_owner)


def _median_days(cohort):
    """The median length in days of the stays in each stage that ended (the lead moved on or
    back), computed by the database: the middle one or the mean of the middle two."""
    moves = (sa.select(StageChange.to_stage.label("stage"),
                       days_between(StageChange.changed_at, sa.func.lead(StageChange.changed_at)
                                    .over(partition_by=StageChange.lead_id,
                                          order_by=[StageChange.changed_at, StageChange.id]))
                       .label("days"))
             .where(StageChange.lead_id.in_(cohort),
                    sa.or_(StageChange.from_stage.is_(None),
                           StageChange.from_stage != StageChange.to_stage))
             .subquery())
    ended = sa.select(moves.c.stage, moves.c.days).where(moves.c.days.isnot(None)).subquery()
    ranked = sa.select(
        ended.c.stage, ended.c.days,
        sa.func.row_number().over(partition_by=ended.c.stage, order_by=ended.c.days)
        .label("rank"),
        sa.func.count().over(partition_by=ended.c.stage).label("stays")).subquery()
    rows = db.session.execute(
        sa.select(ranked.c.stage, sa.func.avg(ranked.c.days), sa.func.max(ranked.c.stays))
        .where(ranked.c.rank.in_([(ranked.c.stays + 1) // 2, (ranked.c.stays + 2) // 2]))
        .group_by(ranked.c.stage)).all()
    medians = {stage.value: None for stage in Stage if stage is not Stage.WON}
    stays = dict.fromkeys(medians, 0)
    for stage, median, count in rows:
        medians[stage] = float(median)
        stays[stage] = count
    return medians, stays


def stalled_since(today, days):
    """The moment before which a lead's last activity makes it stalled."""
    return datetime.combine(today - timedelta(days=days), time(0), tzinfo=local_zone())


def stalled_conditions(user, filters):
    """Open leads, older than the stalled span, with no activity on them within it."""
    since = stalled_since(filters.today, filters.stalled_days)
    return [*lead_conditions(user, filters), *quiet_since_conditions(since)]


def _stalled(user, filters):
    conditions = stalled_conditions(user, filters)
    leads = db.session.execute(
        sa.select(Lead, Lead.last_activity_at).where(*conditions)
        .options(sa.orm.joinedload(Lead.owner), sa.orm.joinedload(Lead.organisation))
        .order_by(Lead.last_activity_at.asc().nulls_first(), Lead.id).limit(LIST_LIMIT)).all()
    per_owner = db.session.execute(
        sa.select(Lead.owner_id, User.name, sa.func.count(Lead.id).label("count"))
        .outerjoin(User, User.id == Lead.owner_id).where(*conditions)
        .group_by(Lead.owner_id, User.name).order_by(sa.func.count(Lead.id).desc(), User.name)
    ).all()
    return leads, sum(row.count for row in per_owner), per_owner


# -- 4. Lost and abandoned -------------------------------------------------------------------

@dataclass
class Losses:
    total: Figures
    by_reason: list             # (status, reason, Figures)
    by_stage: dict              # stage -> Figures
    by_destination: list        # (lost to, Figures)


def closed_in(period):
    return sa.and_(Lead.status.in_(CLOSED_LOST), Lead.closed_on >= period.start,
                   Lead.closed_on <= period.end)


def losses(user, filters):
    """Leads lost or abandoned in the period (by the date given when closing them), by reason,
    by the stage they had reached, and where the investment went, in one grouped query."""
    rows = db.session.execute(
        sa.select(Lead.status, Lead.stage, Lead.lost_reason, Lead.lost_to, *figure_columns())
        .where(*lead_conditions(user, filters), closed_in(filters.period))
        .group_by(Lead.status, Lead.stage, Lead.lost_reason, Lead.lost_to)).all()
    total = Figures()
    reasons = defaultdict(Figures)
    stages = {stage.value: Figures() for stage in OPEN_STAGES}
    destinations = defaultdict(Figures)
    for row in rows:
        total.add(row)
        reasons[(row.status, row.lost_reason)].add(row)
        stages.setdefault(row.stage, Figures()).add(row)
        if row.status == Status.LOST.value:
            destinations[row.lost_to].add(row)

    def biggest(items):
        return sorted(items, key=lambda item: (-item[-1].count, -item[-1].capex_eur,
                                               str(item[:-1])))

    return Losses(total=total,
                  by_reason=biggest([(status, reason, figures)
                                     for (status, reason), figures in reasons.items()]),
                  by_stage=stages,
                  by_destination=biggest(list(destinations.items())))


# -- 5. Trips and events ---------------------------------------------------------------------

@dataclass
class EventFigures:
    event: Event
    people_met: int = 0
    new_contacts: int = 0
    leads: Figures = field(default_factory=Figures)
    leads_by_stage: dict = field(default_factory=dict)
    wins: Figures = field(default_factory=Figures)
    children: list = field(default_factory=list)

    @property
    def cost_per_lead(self):
        cost = getattr(self.event, "cost_eur", None)
        return cost / self.leads.count if cost is not None and self.leads.count else None

    @property
    def cost_per_job(self):
        cost = getattr(self.event, "cost_eur", None)
        return cost / self.wins.new_jobs if cost is not None and self.wins.new_jobs else None


def events_in(filters):
    """The events (trips, and events on their own or inside a trip) starting in the period."""
    conditions = [Event.deleted_at.is_(None), Event.starts_on >= filters.period.start,
                  Event.starts_on <= filters.period.end]
    if filters.event_id:
        conditions.append(Event.id.in_(event_and_children(filters.event_id)))
    if filters.partner_id:
        partner_events = sa.select(event_partners.c.event_id).where(
            event_partners.c.organisation_id == filters.partner_id)
        conditions.append(sa.or_(Event.id.in_(partner_events),
                                 Event.parent_id.in_(partner_events)))
    return conditions


def trips_and_events(user, filters):
    """For each event starting in the period: the people met there (met in person or
    attended), how many of them were new (recorded on or after its first day), the leads that
    name it as source by the stage they are in, and their wins. A trip adds up its events
    (each person once). Four queries, whatever the number of events."""
    events = db.session.scalars(sa.select(Event).where(*events_in(filters))
                                .order_by(Event.starts_on.desc(), Event.id)).all()
    if not events:
        return []
    ids = [event.id for event in events]
    figures = {event.id: EventFigures(event) for event in events}
    trips = {event.id for event in events if event.kind == "trip"}
    in_scope = sa.or_(Event.id.in_(ids), Event.parent_id.in_(ids))
    met = [Attendance.status.in_(MET), Contact.deleted_at.is_(None), Event.deleted_at.is_(None),
           in_scope]
    if filters.own_user_id:
        met.append(Attendance.created_by_id == filters.own_user_id)
    new = is_new_contact()
    # Each event's own people, then each trip's (with its events' people, each once).
    for key, wanted in ((Event.id, set(ids)), (sa.func.coalesce(Event.parent_id, Event.id),
                                               trips)):
        grouped = (sa.select(key.label("key"), Attendance.contact_id, new.label("new"))
                   .join(Event, Event.id == Attendance.event_id)
                   .join(Contact, Contact.id == Attendance.contact_id).where(*met).subquery())
        for row in db.session.execute(
                sa.select(grouped.c.key, sa.func.count(sa.distinct(grouped.c.contact_id)),
                          sa.func.count(sa.distinct(sa.case((grouped.c.new,
                                                             grouped.c.contact_id)))))
                .group_by(grouped.c.key)):
            if row[0] in wanted:
                figures[row[0]].people_met, figures[row[0]].new_contacts = row[1], row[2]
    rows = db.session.execute(
        sa.select(Lead.source_event_id, Event.parent_id, Lead.stage, Lead.status,
                  *figure_columns())
        .join(Event, Event.id == Lead.source_event_id)
        .where(*lead_conditions(user, filters), in_scope)
        .group_by(Lead.source_event_id, Event.parent_id, Lead.stage, Lead.status)).all()
    for row in rows:
        targets = [row.source_event_id]
        if row.parent_id in trips:
            targets.append(row.parent_id)
        for target in targets:
            if target not in figures:
                continue
            entry = figures[target]
            entry.leads.add(row)
            entry.leads_by_stage.setdefault(row.stage, Figures()).add(row)
            if row.stage == Stage.WON.value and row.status == Status.WON.value:
                entry.wins.add(row)
    roots = []
    for event in events:
        parent = figures.get(event.parent_id)
        if parent is not None:
            parent.children.append(figures[event.id])
        else:
            roots.append(figures[event.id])
    return roots


# -- 6. Partners -----------------------------------------------------------------------------

@dataclass
class PartnerFigures:
    partner_id: int
    name: str
    brought: Figures = field(default_factory=Figures)
    open: Figures = field(default_factory=Figures)
    wins: Figures = field(default_factory=Figures)


def partner_pairs():
    """(partner id, lead id) for every lead a partner brought: referred by it, or from an
    event (or an event of a trip) it co-organised."""
    partner_events = (sa.select(event_partners.c.organisation_id.label("partner_id"),
                                Event.id.label("event_id"))
                      .join(Event, sa.or_(Event.id == event_partners.c.event_id,
                                          Event.parent_id == event_partners.c.event_id))
                      .subquery())
    return sa.union(
        sa.select(Lead.referral_partner_id.label("partner_id"), Lead.id.label("lead_id"))
        .where(Lead.referral_partner_id.isnot(None)),
        sa.select(partner_events.c.partner_id, Lead.id.label("lead_id"))
        .join(Lead, Lead.source_event_id == partner_events.c.event_id)).subquery()


def partners(user, filters):
    """For each partner organisation that brought leads: those created in the period, those
    open now, and the wins in the period, with their value. One grouped query."""
    pairs = partner_pairs()
    brought, won = created_in(filters.period), won_in(filters.period)
    # Filtered by one partner, the table is that partner's row (not those who shared its leads).
    only = [pairs.c.partner_id == filters.partner_id] if filters.partner_id else []
    rows = db.session.execute(
        sa.select(pairs.c.partner_id, Organisation.name,
                  *figure_columns(brought, "brought_"), *figure_columns(is_open(), "open_"),
                  *figure_columns(won, "won_"))
        .join(Lead, Lead.id == pairs.c.lead_id)
        .join(Organisation, Organisation.id == pairs.c.partner_id)
        .where(*lead_conditions(user, filters), Organisation.deleted_at.is_(None),
               sa.or_(brought, won, is_open()), *only)
        .group_by(pairs.c.partner_id, Organisation.name)).all()
    result = []
    for row in rows:
        entry = PartnerFigures(row.partner_id, row.name)
        entry.brought.add(row, "brought_")
        entry.open.add(row, "open_")
        entry.wins.add(row, "won_")
        result.append(entry)
    return sorted(result, key=lambda p: (-p.wins.capex_eur, -p.brought.count, -p.open.count,
                                         p.name))


# -- 7. Team follow-up -----------------------------------------------------------------------

@dataclass
class TeamMember:
    user_id: int
    name: str
    open_follow_ups: int = 0
    overdue: int = 0
    met_without_follow_up: int = 0


def unfollowed_attendances(filters):
    """Conditions for people met (or attended) at an event that ended in the period and before
    today, with no activity on them since the event's last day was over (from 22:00 UTC, the
    latest midnight in Europe, so that nothing done after the event is missed); not those who
    asked not to be contacted."""
    later = sa.select(Activity.id).where(Activity.contact_id == Attendance.contact_id,
                                         Activity.deleted_at.is_(None),
                                         Activity.occurred_at >= shifted_day(Event.ends_on, 22))
    return [Attendance.status.in_(MET), Event.deleted_at.is_(None), Contact.deleted_at.is_(None),
            Contact.do_not_contact.is_(False),
            Event.ends_on >= filters.period.start, Event.ends_on <= filters.period.end,
            Event.ends_on < filters.today, ~later.exists()]


def team(user, filters):
    """Per active team member: open and overdue follow-ups assigned to them, and the people
    they met at events in the period who have heard nothing since. Three grouped queries."""
    open_ = [Activity.due_on.isnot(None), Activity.done_at.is_(None), visible_activities(user)]
    overdue = sa.case((Activity.due_on < filters.today, 1), else_=0)
    users = sa.select(User.id, User.name).where(User.is_active.is_(True))
    if filters.own_user_id:
        users = users.where(User.id == filters.own_user_id)
    elif filters.owner_id:
        users = users.where(User.id == filters.owner_id)
    members = {row.id: TeamMember(row.id, row.name)
               for row in db.session.execute(users.order_by(User.name_sort))}
    for row in db.session.execute(
            sa.select(Activity.assignee_id, sa.func.count(Activity.id),
                      sa.func.coalesce(sa.func.sum(overdue), 0))
            .where(*open_, Activity.assignee_id.in_(list(members)))
            .group_by(Activity.assignee_id)):
        members[row[0]].open_follow_ups, members[row[0]].overdue = row[1], int(row[2])
    for row in db.session.execute(
            sa.select(Attendance.created_by_id,
                      sa.func.count(sa.distinct(Attendance.contact_id)))
            .join(Event, Event.id == Attendance.event_id)
            .join(Contact, Contact.id == Attendance.contact_id)
            .where(*unfollowed_attendances(filters),
                   Attendance.created_by_id.in_(list(members)))
            .group_by(Attendance.created_by_id)):
        members[row[0]].met_without_follow_up = row[1]
    return sorted(members.values(),
                  key=lambda m: (-m.overdue, -m.met_without_follow_up, -m.open_follow_ups))
