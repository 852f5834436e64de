"""Dates, numbers and euro amounts in the user's locale, as Jinja filters."""

import re

from babel import Locale
from flask_babel import format_currency as babel_format_currency
from flask_babel import format_date, format_decimal, format_percent, format_time, get_locale
from markupsafe import Markup, escape


def format_day(value):
    """A date as the locale writes it: 21.11.2026 in German, Nov 21, 2026 in English."""
    return "" if value is None else format_date(value, "medium")


def format_moment(value):
    """A moment in the user's time zone: 21.11.2026, 23:05."""
    if value is None:
        return ""
    return f"{format_date(value, 'medium')}, {format_time(value, 'short')}"


def format_eur(value):
    """Whole euros in the locale's currency pattern: 1.234.567 € or €1,234,567."""
    if value is None:
        return ""
    pattern = Locale.parse(str(get_locale())).currency_formats["standard"].pattern
    return babel_format_currency(
        value, "EUR", format=pattern.replace(".00", ""), currency_digits=False
    )


def format_number(value):
    """A number with the locale's grouping: 1.234.567 or 1,234,567."""
    return "" if value is None else format_decimal(value)


def format_share(value):
    """A share from 0 to 1 as a percentage with one decimal: 12,5 % or 12.5%."""
    return "" if value is None else format_percent(value, "#,##0.0 %")


def format_days(value):
    """A number of days with one decimal: 12,5."""
    return "" if value is None else format_decimal(value, "#,##0.0")


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text):
    """Text as written, safe to show: markup is escaped, web addresses become links (line
    breaks are kept by the page's `white-space: pre-wrap`)."""
    if not text:
        return ""
    escaped = str(escape(text))

    def link(match):
        url = match.group(0)
        trail = ""
        while url and url[-1] in ".,;:!?)":
            url, trail = url[:-1], url[-1] + trail
        return f'<a href="{url}" rel="noopener noreferrer" target="_blank">{url}</a>{trail}'

    return Markup(_URL.sub(link, escaped))


FILTERS = {
    "day": format_day,
    "moment": format_moment,
    "eur": format_eur,
    "number": format_number,
    "share": format_share,
    "days": format_days,
    "linkify": linkify,
}
