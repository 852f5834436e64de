"""A user's private calendar feed (iCalendar, RFC 5545): their open follow-ups and the events
they take part in, for the agency's calendar program."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from crm.activities.queries import open_follow_ups
from crm.core.models import utcnow
from crm.events.models import Event, event_team_members
from crm.extensions import db

FOLLOW_UP_TIME = time(9, 0)  # a follow-up shows in the morning of its day
PAST_DAYS = 90


def feed(user):
    """The user's calendar as iCalendar bytes."""
    zone_name = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    zone = ZoneInfo(zone_name)
    base = current_app.config["PUBLIC_URL"]
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse CRM//lotse//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Lotse – {user.name}")
    calendar.add("x-wr-timezone", zone_name)
    stamp = utcnow()
    with force_locale(user.language):
        label = _("Follow-up")
    # Not those on a deleted person or on a confidential lead the user may no longer see.
    follow_ups = open_follow_ups(user, assignee_id=user.id)
    for activity in db.session.scalars(follow_ups.limit(1000)):
        entry = CalendarEvent()
        entry.add("uid", f"follow-up-{activity.id}@lotse")
        entry.add("dtstamp", stamp)
        start = datetime.combine(activity.due_on, FOLLOW_UP_TIME, tzinfo=zone)
        entry.add("dtstart", start)
        entry.add("dtend", start + timedelta(minutes=15))
        about = activity.contact or activity.lead or activity.organisation or activity.event
        entry.add("summary", f"{label}: {about}" if about else label)
        entry.add("description", activity.body)
        entry.add("url", f"{base}/")
        calendar.add_component(entry)
    since = stamp.date() - timedelta(days=PAST_DAYS)
    events = db.session.scalars(
        sa.select(Event).join(event_team_members, event_team_members.c.event_id == Event.id)
        .where(event_team_members.c.user_id == user.id, Event.deleted_at.is_(None),
               Event.ends_on >= since).order_by(Event.starts_on))
    for event in events:
        entry = CalendarEvent()
        entry.add("uid", f"event-{event.id}@lotse")
        entry.add("dtstamp", stamp)
        entry.add("dtstart", event.starts_on)  # whole days
        entry.add("dtend", event.ends_on + timedelta(days=1))
        entry.add("summary", event.name)
        if event.city:
            entry.add("location", ", ".join(p for p in (event.city, event.country_name) if p))
        entry.add("url", f"{base}/events/{event.id}")
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
