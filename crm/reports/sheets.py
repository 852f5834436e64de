"""The reports as tables: what the page shows, the charts draw and the exports write.

Each number carries the link to the list of leads (or contacts, or follow-ups) it counts: the
lead list's filters (see `crm.leads.queries.report_conditions`) reproduce the report's own.
"""

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l

from crm.core.countries import country_name
from crm.core.models import local_zone
from crm.core.tables import Column, Table
from crm.events.models import EventKind
from crm.leads.models import InvestmentType, Stage, Status
from crm.organisations.models import Sector
from crm.reports import queries

ORIGIN_LABELS = {"domestic": _l("Domestic"), "foreign": _l("Foreign"),
                 "unknown": _l("Not given")}
NOT_GIVEN = _l("Not given")
# A loss reason longer than this gets no link: its address would be longer than a server in
# front of the app accepts (gunicorn takes request lines of up to 4094 bytes).
LINKED_REASON_MAX = 500


def label(enum, value):
    """The value's label, or the value itself where the list no longer holds it."""
    if not value:
        return NOT_GIVEN
    try:
        return enum(value).label
    except ValueError:
        return value


class Links:
    """Addresses of the lists behind the numbers, with the report's filters."""

    def __init__(self, filters):
        self.filters = filters
        self.base = {"sector": filters.sector, "country": filters.country,
                     "owner": filters.owner_id, "event": filters.event_id,
                     "brought_by": filters.partner_id,
                     "mine": "1" if filters.own_user_id else None}

    def leads(self, **args):
        values = {**self.base, "closed": "1", **args}
        return url_for("leads.index", **{k: v for k, v in values.items() if v is not None})

    def met(self, event_id, **args):
        """The contacts met at an event (or a trip's events), as the reports count them."""
        values = {"event": event_id, "met": "1", "met_by": self.filters.own_user_id, **args}
        return url_for("contacts.index", **{k: v for k, v in values.items() if v is not None})

    def won(self, period, **args):
        return self.leads(won_from=period.start.isoformat(), won_to=period.end.isoformat(),
                          **args)

    def created(self, **args):
        period = self.filters.period
        return self.leads(created_from=period.start.isoformat(),
                          created_to=period.end.isoformat(), **args)

    def closed(self, **args):
        period = self.filters.period
        return self.leads(closed_from=period.start.isoformat(),
                          closed_to=period.end.isoformat(), **args)


def _figure_row(figures, link=None, *, prefix="", keys=("count", "capex_eur", "new_jobs",
                                                       "safeguarded_jobs")):
    row = {prefix + key: getattr(figures, key) for key in keys}
    if link:
        row.setdefault("_links", {})[prefix + "count"] = link
    return row


FIGURE_COLUMNS = (("count", _l("Projects"), "count"), ("capex_eur", _l("CAPEX"), "eur"),
                  ("new_jobs", _l("New jobs"), "count"),
                  ("safeguarded_jobs", _l("Safeguarded jobs"), "count"))


# -- 1. Results ------------------------------------------------------------------------------

def results_tables(results, links):
    """The won projects of the period beside the period before, in total and split four
    ways; then planned and realised figures."""
    current, previous = results.period, results.previous_period
    columns = [Column("key", _l("Split"))]
    columns += [Column(key, name, kind) for key, name, kind in FIGURE_COLUMNS]
    columns += [Column("previous_" + key, _l("%(figure)s, period before", figure=name), kind)
                for key, name, kind in FIGURE_COLUMNS]

    def rows(splits, name_of, arg):
        made = []
        for split in splits:
            args = {arg: split.key} if arg and split.key else {}
            row = {"key": name_of(split.key)}
            row.update(_figure_row(split.current, links.won(current, **args)
                                   if arg is None or split.key else None))
            row_previous = _figure_row(split.previous, links.won(previous, **args)
                                       if arg is None or split.key else None,
                                       prefix="previous_")
            row.setdefault("_links", {}).update(row_previous.pop("_links", {}))
            row.update(row_previous)
            made.append(row)
        return made

    tables = [
        Table("results_total", _l("Projects won"), columns,
              rows([results.total], lambda key: _l("All won projects"), None)),
        Table("results_by_investment_type", _l("Won by investment type"), columns,
              rows(results.by_investment_type, lambda key: label(InvestmentType, key),
                   "investment_type")),
        Table("results_by_origin", _l("Won by foreign or domestic investor"), columns,
              rows(results.by_origin, lambda key: ORIGIN_LABELS[key], "origin")),
        Table("results_by_country", _l("Won by country of origin"), columns,
              rows(results.by_country, lambda key: country_name(key) if key else NOT_GIVEN,
                   "country")),
        Table("results_by_sector", _l("Won by sector"), columns,
              rows(results.by_sector, lambda key: label(Sector, key), "sector")),
    ]
    realised = results.total.current
    tables.append(Table(
        "results_realised", _l("Planned and realised, for the won projects with realised "
                               "figures"),
        [Column("key", _l("Figure")), Column("planned", _l("Planned"), "count"),
         Column("realised", _l("Realised"), "count")],
        [{"key": _l("Projects with realised figures"), "planned": realised.realised_count,
          "realised": realised.realised_count},
         {"key": _l("CAPEX (EUR)"), "planned": realised.planned_of_realised_capex_eur,
          "realised": realised.realised_capex_eur},
         {"key": _l("New jobs"), "planned": realised.planned_of_realised_new_jobs,
          "realised": realised.realised_new_jobs},
         {"key": _l("Safeguarded jobs"), "planned": realised.planned_of_realised_safeguarded_jobs,
          "realised": realised.realised_safeguarded_jobs}]))
    return tables


# -- 2. Pipeline -----------------------------------------------------------------------------

PIPELINE_COLUMNS = [Column("count", _l("Leads"), "count"), Column("capex_eur", _l("CAPEX"), "eur"),
                    Column("jobs", _l("Jobs (new and safeguarded)"), "count"),
                    Column("weighted_capex", _l("CAPEX weighted by likelihood"), "eur")]


def _pipeline_row(figures, link):
    return {"count": figures.count, "capex_eur": figures.capex_eur, "jobs": figures.jobs,
            "weighted_capex": figures.weighted_capex, "_links": {"count": link}}


def pipeline_tables(pipeline, links, today):
    by_stage = [{"key": label(Stage, stage),
                 **_pipeline_row(figures, links.leads(open="1", stage=stage))}
                for stage, figures in pipeline.by_stage.items()]
    by_stage.append({"key": _l("All open leads"),
                     **_pipeline_row(pipeline.total, links.leads(open="1"))})
    stage_columns = [Column(stage.value, stage.label, "count") for stage in queries.OPEN_STAGES]

    def crossed(items, name_of, arg):
        rows = []
        for key, stages in items.items():
            args = {arg: key} if key else None
            row = {"key": name_of(key), "_links": {}}
            for stage in queries.OPEN_STAGES:
                figures = stages.get(stage.value)
                row[stage.value] = figures.count if figures else 0
                if args and figures:
                    row["_links"][stage.value] = links.leads(open="1", stage=stage.value,
                                                             **args)
            total = stages["total"]
            row.update(capex_eur=total.capex_eur, jobs=total.jobs,
                       weighted_capex=total.weighted_capex, count=total.count)
            if args:
                row["_links"]["count"] = links.leads(open="1", **args)
            rows.append(row)
        return rows

    cross_columns = [*stage_columns, Column("count", _l("Leads"), "count"),
                     Column("capex_eur", _l("CAPEX"), "eur"),
                     Column("jobs", _l("Jobs (new and safeguarded)"), "count"),
                     Column("weighted_capex", _l("CAPEX weighted by likelihood"), "eur")]
    until = queries.decisions_ahead_until(today)
    decisions = [{"key": lead.title, "organisation": lead.organisation.name,
                  "stage": lead.stage_enum.label, "expected": lead.expected_decision_on,
                  "capex_eur": lead.capex_eur, "new_jobs": lead.new_jobs,
                  "owner": lead.owner.name if lead.owner else "",
                  "_links": {"key": url_for("leads.detail", lead_id=lead.id)}}
                 for lead in pipeline.decisions_ahead]
    all_decisions = links.leads(open="1", decision_from=today.isoformat(),
                                decision_to=until.isoformat())
    return [
        Table("pipeline_by_stage", _l("Open leads by stage"),
              [Column("key", _l("Stage")), *PIPELINE_COLUMNS], by_stage),
        Table("pipeline_by_sector", _l("Open leads by sector and stage"),
              [Column("key", _l("Sector")), *cross_columns],
              crossed(pipeline.by_sector, lambda key: label(Sector, key), "sector")),
        Table("pipeline_by_country", _l("Open leads by country of origin and stage"),
              [Column("key", _l("Country")), *cross_columns],
              crossed(pipeline.by_country,
                      lambda key: country_name(key) if key else NOT_GIVEN, "country")),
        Table("pipeline_decisions", _l("Decisions expected in the next 90 days"),
              [Column("key", _l("Lead")), Column("organisation", _l("Investor")),
               Column("stage", _l("Stage")), Column("expected", _l("Expected decision"), "date"),
               Column("capex_eur", _l("CAPEX"), "eur"), Column("new_jobs", _l("New jobs"), "count"),
               Column("owner", _l("Project manager"))],
              decisions, total=pipeline.decisions_ahead_count, more=all_decisions),
    ], all_decisions


# -- 3. Conversion ---------------------------------------------------------------------------

def conversion_tables(conversion, links, filters):
    stages = list(Stage)
    rows = []
    for index, stage in enumerate(stages):
        reached = conversion.reached[stage.value]
        following = stages[index + 1] if index + 1 < len(stages) else None
        rows.append({
            "key": stage.label, "reached": reached,
            "share": conversion.share_to_next.get(stage.value),
            "next": following.label if following else "",
            "median_days": conversion.median_days.get(stage.value),
            "stays": conversion.stays.get(stage.value),
            "_links": {"reached": links.created(reached=stage.value)},
        })
    stalled = [{"key": lead.title, "organisation": lead.organisation.name,
                "stage": lead.stage_enum.label,
                "last_activity": last.astimezone(local_zone()).date() if last else None,
                "owner": lead.owner.name if lead.owner else "",
                "_links": {"key": url_for("leads.detail", lead_id=lead.id)}}
               for lead, last in conversion.stalled]
    per_owner = [{"key": name or NOT_GIVEN, "count": count,
                  "_links": {"count": links.leads(stalled=filters.stalled_days,
                                                  owner=owner_id) if owner_id else None}}
                 for owner_id, name, count in conversion.stalled_per_owner]
    return [
        Table("conversion", _l("Conversion and time in stage (leads created in the period)"),
              [Column("key", _l("Stage")), Column("reached", _l("Leads that reached it"),
                                                  "count"),
               Column("share", _l("Share that reached the next stage"), "share"),
               Column("next", _l("Next stage")),
               Column("median_days", _l("Median days in the stage"), "days"),
               Column("stays", _l("Stays the median is made of"), "count")], rows),
        Table("stalled_per_owner", _l("Stalled leads per project manager"),
              [Column("key", _l("Project manager")), Column("count", _l("Stalled leads"),
                                                            "count")], per_owner),
        Table("stalled", _l("Stalled leads"),
              [Column("key", _l("Lead")), Column("organisation", _l("Investor")),
               Column("stage", _l("Stage")),
               Column("last_activity", _l("Last activity"), "date"),
               Column("owner", _l("Project manager"))], stalled,
              total=conversion.stalled_count, more=links.leads(stalled=filters.stalled_days)),
    ]


# -- 4. Losses -------------------------------------------------------------------------------

def losses_tables(losses, links):
    figure_columns = [Column("count", _l("Leads"), "count"), Column("capex_eur", _l("CAPEX"), "eur"),
                      Column("new_jobs", _l("New jobs"), "count")]
    by_reason = [{"key": label(Status, status), "reason": reason or NOT_GIVEN,
                  **_figure_row(figures, links.closed(status=status, lost_reason=reason or "")
                                if len(reason or "") <= LINKED_REASON_MAX else None,
                                keys=("count", "capex_eur", "new_jobs"))}
                 for status, reason, figures in losses.by_reason]
    by_stage = [{"key": label(Stage, stage),
                 **_figure_row(figures, links.closed(stage=stage) if figures.count else None,
                               keys=("count", "capex_eur", "new_jobs"))}
                for stage, figures in losses.by_stage.items()]
    by_destination = [{"key": destination or NOT_GIVEN,
                       **_figure_row(figures, links.closed(status=Status.LOST.value,
                                                           lost_to=destination or ""),
                                     keys=("count", "capex_eur", "new_jobs"))}
                      for destination, figures in losses.by_destination]
    return [
        Table("losses_by_reason", _l("Lost and abandoned by reason"),
              [Column("key", _l("Status")), Column("reason", _l("Reason")), *figure_columns],
              by_reason),
        Table("losses_by_stage", _l("Lost and abandoned by the stage reached"),
              [Column("key", _l("Stage reached")), *figure_columns], by_stage),
        Table("losses_by_destination", _l("Where the investment went instead"),
              [Column("key", _l("Location chosen instead")), *figure_columns],
              by_destination),
    ]


# -- 5. Trips and events ---------------------------------------------------------------------

def events_table(entries, links):
    rows = []

    def add(entry, depth):
        event = entry.event
        rows.append({
            "key": ("– " * depth) + event.name, "starts_on": event.starts_on,
            "kind": label(EventKind, event.kind),
            "people_met": entry.people_met, "new_contacts": entry.new_contacts,
            "leads": entry.leads.count,
            **{f"stage_{stage.value}": entry.leads_by_stage[stage.value].count
               if stage.value in entry.leads_by_stage else 0 for stage in Stage},
            "wins": entry.wins.count, "won_capex": entry.wins.capex_eur,
            "won_jobs": entry.wins.new_jobs, "cost_eur": event.cost_eur,
            "cost_per_lead": entry.cost_per_lead, "cost_per_job": entry.cost_per_job,
            "_links": {"key": url_for("events.detail", event_id=event.id),
                       "people_met": links.met(event.id),
                       "new_contacts": links.met(event.id, new="1"),
                       "leads": links.leads(event=event.id),
                       "wins": links.leads(event=event.id, status=Status.WON.value),
                       **{f"stage_{stage.value}": links.leads(event=event.id, stage=stage.value)
                          for stage in Stage if stage.value in entry.leads_by_stage}},
        })
        for child in entry.children:
            add(child, depth + 1)

    for entry in entries:
        add(entry, 0)
    return Table(
        "events", _l("Trips and events"),
        [Column("key", _l("Trip or event")), Column("starts_on", _l("Start"), "date"),
         Column("kind", _l("Kind")), Column("people_met", _l("People met"), "count"),
         Column("new_contacts", _l("New contacts"), "count"),
         Column("leads", _l("Leads"), "count"),
         *[Column(f"stage_{stage.value}", _l("in stage %(stage)s", stage=stage.label), "count")
           for stage in Stage],
         Column("wins", _l("Wins"), "count"), Column("won_capex", _l("Won CAPEX"), "eur"),
         Column("won_jobs", _l("New jobs won"), "count"),
         Column("cost_eur", _l("Cost"), "eur"),
         Column("cost_per_lead", _l("Cost per lead"), "eur"),
         Column("cost_per_job", _l("Cost per job created"), "eur")],
        rows)


# -- 6. Partners -----------------------------------------------------------------------------

def partners_table(entries, links):
    filters = links.filters
    rows = [{
        "key": entry.name,
        "brought": entry.brought.count, "brought_capex": entry.brought.capex_eur,
        "open": entry.open.count, "open_capex": entry.open.capex_eur,
        "wins": entry.wins.count, "won_capex": entry.wins.capex_eur,
        "won_jobs": entry.wins.new_jobs + entry.wins.safeguarded_jobs,
        "_links": {"key": url_for("organisations.detail", organisation_id=entry.partner_id),
                   "brought": links.created(brought_by=entry.partner_id),
                   "open": links.leads(open="1", brought_by=entry.partner_id),
                   "wins": links.won(filters.period, brought_by=entry.partner_id)},
    } for entry in entries]
    return Table(
        "partners", _l("Partners: leads referred or from events they co-organised"),
        [Column("key", _l("Partner")), Column("brought", _l("Leads in the period"), "count"),
         Column("brought_capex", _l("Their CAPEX"), "eur"),
         Column("open", _l("Open leads"), "count"), Column("open_capex", _l("Open CAPEX"), "eur"),
         Column("wins", _l("Wins in the period"), "count"),
         Column("won_capex", _l("Won CAPEX"), "eur"),
         Column("won_jobs", _l("Jobs won (new and safeguarded)"), "count")],
        rows)


# -- 7. Team ---------------------------------------------------------------------------------

def team_table(members, today):
    yesterday = (today - timedelta(days=1)).isoformat()
    rows = [{"key": member.name, "open": member.open_follow_ups, "overdue": member.overdue,
             "met_without_follow_up": member.met_without_follow_up,
             "_links": {"open": url_for("activities.follow_ups", person=member.user_id),
                        "overdue": url_for("activities.follow_ups", person=member.user_id,
                                           due_to=yesterday)}}
            for member in members]
    return Table(
        "team", _l("Team follow-up"),
        [Column("key", _l("Team member")), Column("open", _l("Open follow-ups"), "count"),
         Column("overdue", _l("Overdue"), "count"),
         Column("met_without_follow_up", _l("People met without follow-up"), "count")],
        rows)
