"""Read-only questions about leads: who sees which, the list, the board and their totals.

Every query here starts from `visible(user)`: a confidential lead exists only for its owner,
its team, managers and admins; for everyone else it is in no list, total or count.
"""

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from crm.activities.models import Activity
from crm.auth.permissions import Permission, has_permission
from crm.core.fulltext import matching_words
from crm.core.models import utcnow
from crm.events.models import Event, event_partners
from crm.leads.models import Lead, Stage, StageChange, Status, lead_contacts, lead_team_members
from crm.leads.rules import LIKELIHOOD_WEIGHTS

CLOSED_STATUSES = (Status.LOST.value, Status.ABANDONED.value, Status.DORMANT.value)
BOARD_CARDS_PER_STAGE = 100

SORTS = {
    "title": [Lead.title_sort],
    "stage": [Lead.stage, Lead.title_sort],
    "capex_eur": [Lead.capex_eur],
    "new_jobs": [Lead.new_jobs],
    "expected_decision_on": [Lead.expected_decision_on],
    "updated_at": [Lead.updated_at],
}


def visible(user):
    """The condition for leads `user` may see (not deleted, and not someone else's secret)."""
    condition = Lead.deleted_at.is_(None)
    if has_permission(user, Permission.VIEW_CONFIDENTIAL):
        return condition
    user_id = getattr(user, "id", None)
    on_team = Lead.id.in_(sa.select(lead_team_members.c.lead_id)
                          .where(lead_team_members.c.user_id == user_id))
    return sa.and_(condition, sa.or_(Lead.is_confidential.is_(False), Lead.owner_id == user_id,
                                     on_team))


def filtered(user, *, q=None, mine=False, owner_id=None, sector=None, country=None,
             investment_type=None, source_event_id=None, referral_partner_id=None,
             likelihood=None, stage=None, status=None, decision_from=None, decision_to=None,
             show_closed=False, **report):
    """The conditions of the list's and the board's filters, for `user`; `report` takes the
    filters the reports' drill-downs add (see `report_conditions`)."""
    conditions = [visible(user), *report_conditions(**report)]
    if q:
        conditions += matching_words(Lead.search_text, q)
    if mine:
        user_id = getattr(user, "id", None)
        conditions.append(sa.or_(Lead.owner_id == user_id, Lead.id.in_(
            sa.select(lead_team_members.c.lead_id).where(lead_team_members.c.user_id == user_id))))
    for column, value in ((Lead.owner_id, owner_id), (Lead.sector, sector),
                          (Lead.country, country), (Lead.investment_type, investment_type),
                          (Lead.referral_partner_id, referral_partner_id),
                          (Lead.likelihood, likelihood), (Lead.stage, stage),
                          (Lead.status, status)):
        if value:
            conditions.append(column == value)
    if source_event_id:
        # A trip also counts the leads of its events.
        conditions.append(Lead.source_event_id.in_(
            sa.select(Event.id).where(sa.or_(Event.id == source_event_id,
                                             Event.parent_id == source_event_id))))
    if decision_from:
        conditions.append(Lead.expected_decision_on >= decision_from)
    if decision_to:
        conditions.append(Lead.expected_decision_on <= decision_to)
    if not show_closed and not status and not report.get("open_only"):
        conditions.append(Lead.status.not_in(CLOSED_STATUSES))
    return conditions


def quiet_since_conditions(since):
    """Open leads older than `since` with no activity from then on: the stalled leads."""
    return [is_open(), Lead.created_at < since,
            sa.or_(Lead.last_activity_at.is_(None), Lead.last_activity_at < since)]


def report_conditions(*, won_between=None, created_between=None, closed_from=None,
                      closed_to=None, origin=None, open_only=False, quiet_since=None,
                      reached=None, brought_by=None, lost_reason=None, lost_to=None):
    """Conditions for the leads a number on the reports counts, so that following it to the
    lead list shows exactly those. Moments are UTC [from, to) pairs; days are included."""
    conditions = []
    if won_between:
        conditions.append(won_in_moments(*won_between))
    if created_between:
        conditions += [Lead.created_at >= created_between[0],
                       Lead.created_at < created_between[1]]
    if closed_from or closed_to:
        conditions.append(Lead.status.in_((Status.LOST.value, Status.ABANDONED.value)))
    if closed_from:
        conditions.append(Lead.closed_on >= closed_from)
    if closed_to:
        conditions.append(Lead.closed_on <= closed_to)
    if origin:
        conditions.append(origin_condition(origin))
    if open_only:
        conditions.append(is_open())
    if quiet_since:
        conditions += quiet_since_conditions(quiet_since)
    if reached:
        position = list(Stage).index(Stage(reached))
        later = [stage.value for stage in list(Stage)[position:]]
        conditions.append(Lead.id.in_(sa.select(StageChange.lead_id)
                                      .where(StageChange.to_stage.in_(later))))
    if brought_by:
        conditions.append(brought_by_partner(brought_by))
    if lost_reason is not None:
        conditions.append(Lead.lost_reason == lost_reason if lost_reason
                          else Lead.lost_reason.is_(None))
    if lost_to is not None:
        conditions.append(Lead.lost_to == lost_to if lost_to else Lead.lost_to.is_(None))
    return conditions


OPEN_STATUSES = tuple(status.value for status in Status if status.is_open)


def is_open():
    """Leads still in play: ongoing, delayed or dormant, and not won."""
    return sa.and_(Lead.status.in_(OPEN_STATUSES), Lead.stage != Stage.WON.value)


def won_in_moments(start, end):
    """Leads won (and still won) with the win confirmed in [start, end)."""
    return sa.and_(Lead.stage == Stage.WON.value, Lead.status == Status.WON.value,
                   Lead.won_confirmed_at >= start, Lead.won_confirmed_at < end)


def home_country():
    return current_app.config.get("HOME_COUNTRY", "DE")


def origin_condition(origin):
    """Leads of one origin: `domestic` (the agency's country), `foreign` or `unknown`."""
    if origin == "unknown":
        return Lead.country.is_(None)
    if origin == "domestic":
        return Lead.country == home_country()
    return sa.and_(Lead.country.isnot(None), Lead.country != home_country())


def brought_by_partner(partner_id):
    """Leads a partner brought: referred by it, or from an event (or an event of a trip) it
    co-organised."""
    partner_events = sa.select(event_partners.c.event_id).where(
        event_partners.c.organisation_id == partner_id)
    events = sa.select(Event.id).where(sa.or_(Event.id.in_(partner_events),
                                              Event.parent_id.in_(partner_events)))
    return sa.or_(Lead.referral_partner_id == partner_id, Lead.source_event_id.in_(events))


def lead_list(conditions, *, sort="updated_at", descending=True):
    return (sa.select(Lead).where(*conditions)
            .options(joinedload(Lead.owner))
            .order_by(*[_in_order(c, descending) for c in SORTS[sort]], Lead.id.desc()))


def _in_order(column, descending):
    """A sort term, with empty values last; plain for a column that is never empty, so that
    PostgreSQL can follow an index for it (its indexes keep NULLs first in descending order)."""
    term = column.desc() if descending else column.asc()
    return term.nulls_last() if column.expression.nullable else term


def weighted_capex_column():
    """CAPEX weighted by likelihood, as SQL (the weights are those of rules.py)."""
    weight = sa.case((Lead.stage == Stage.WON.value, 1),
                     *[(Lead.likelihood == value, weight)
                       for value, weight in LIKELIHOOD_WEIGHTS.items()], else_=0)
    return sa.func.coalesce(Lead.capex_eur, 0) * weight


def totals(conditions, *, by_stage=False):
    """Count, CAPEX, new jobs and weighted CAPEX of the leads matching `conditions`, in one
    query; per stage with `by_stage`."""
    columns = [sa.func.count(Lead.id).label("count"),
               sa.func.coalesce(sa.func.sum(Lead.capex_eur), 0).label("capex_eur"),
               sa.func.coalesce(sa.func.sum(Lead.new_jobs), 0).label("new_jobs"),
               sa.func.coalesce(sa.func.sum(weighted_capex_column()), 0).label("weighted_capex")]
    if by_stage:
        return sa.select(Lead.stage, *columns).where(*conditions).group_by(Lead.stage)
    return sa.select(*columns).where(*conditions)


def next_follow_up():
    """The earliest open follow-up date of each lead, as a column."""
    return (sa.select(sa.func.min(Activity.due_on))
            .where(Activity.lead_id == Lead.id, Activity.done_at.is_(None),
                   Activity.due_on.isnot(None), Activity.deleted_at.is_(None))
            .correlate(Lead).scalar_subquery().label("next_follow_up"))


def board_cards(conditions, limit=BOARD_CARDS_PER_STAGE):
    """(lead, next follow-up) rows for the board, at most `limit` per stage, the most valuable
    first, in one query. Each stage's cards are chosen by a LIMIT of their own (a top-N sort
    of that stage's ids), and only the chosen leads are read whole."""
    order = [Lead.capex_eur.desc().nulls_last(), Lead.id.desc()]
    chosen = [_most_valuable(conditions, stage, limit).subquery() for stage in Stage]
    ids = sa.union_all(*[sa.select(stage.c.id) for stage in chosen])
    return (sa.select(Lead, next_follow_up())
            .where(Lead.id.in_(ids))
            .options(joinedload(Lead.owner), selectinload(Lead.team_members))
            .order_by(*order))


def _most_valuable(conditions, stage, limit):
    """The ids of a stage's `limit` most valuable leads, those without a CAPEX last.

    Those with a CAPEX and those without are chosen apart, each along the board's index
    (PostgreSQL's index keeps empty values first when read backwards, so one ORDER BY with
    NULLS LAST would sort the whole stage), then the two short lists are merged."""
    of_stage = sa.select(Lead.id, Lead.capex_eur).where(*conditions, Lead.stage == stage.value)
    valued = (of_stage.where(Lead.capex_eur.isnot(None))
              .order_by(Lead.capex_eur.desc(), Lead.id.desc()).limit(limit).subquery())
    unvalued = (of_stage.where(Lead.capex_eur.is_(None))
                .order_by(Lead.id.desc()).limit(limit).subquery())
    both = sa.union_all(sa.select(valued.c.id, valued.c.capex_eur),
                        sa.select(unvalued.c.id, unvalued.c.capex_eur)).subquery()
    return (sa.select(both.c.id)
            .order_by(both.c.capex_eur.desc().nulls_last(), both.c.id.desc()).limit(limit))


def of_organisation(user, organisation_id):
    return (sa.select(Lead).where(visible(user), Lead.organisation_id == organisation_id)
            .order_by(Lead.updated_at.desc()))


def of_contact(user, contact_id):
    return (sa.select(Lead).where(visible(user), Lead.id.in_(
        sa.select(lead_contacts.c.lead_id).where(lead_contacts.c.contact_id == contact_id)))
        .order_by(Lead.updated_at.desc()))


def of_event(user, event_id):
    return (sa.select(Lead).where(visible(user), Lead.source_event_id.in_(
        sa.select(Event.id).where(sa.or_(Event.id == event_id, Event.parent_id == event_id))))
        .order_by(Lead.updated_at.desc()))


def typeahead(user, q, limit=10):
    return (sa.select(Lead).where(visible(user), *matching_words(Lead.search_text, q))
            .order_by(Lead.title_sort, Lead.id).limit(limit))


def history(lead):
    """The lead's stage and status changes, oldest first, with who made them, in one query."""
    return (sa.select(StageChange).where(StageChange.lead_id == lead.id)
            .options(joinedload(StageChange.changed_by)).order_by(StageChange.id))


def days_per_stage(changes):
    """[(stage, days)] a lead spent in each stage it passed, from its history."""
    now = utcnow()
    spans = {}
    moves = [c for c in changes if c.is_stage_move]
    for current, following in zip(moves, moves[1:] + [None], strict=True):
        end = following.changed_at if following is not None else now
        spans[current.to_stage] = spans.get(current.to_stage, 0) + (end - current.changed_at).days
    return [(Stage(stage), days) for stage, days in spans.items()]
