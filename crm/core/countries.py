"""Countries by ISO 3166-1 alpha-2 code, named in the user's language (from Babel's CLDR data)."""

from functools import cache

from babel import Locale
from flask_babel import get_locale

from crm.core.text import sort_key

# CLDR knows some codes that are not ISO 3166-1 countries: regions, reserved and private codes.
_NOT_ISO_3166 = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB",
                 "XK", "ZZ"}

COUNTRY_CODES = frozenset(
    code for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _NOT_ISO_3166
)


def is_country(code):
    return code in COUNTRY_CODES


def country_name(code, locale=None):
    """The country's name in `locale` (default: the user's), or the code if it is unknown."""
    if not code:
        return ""
    return _names(str(locale or get_locale())).get(code, code)


def country_choices(locale=None):
    """(code, name) pairs sorted by name, for a select field."""
    names = _names(str(locale or get_locale()))
    return sorted(((code, names[code]) for code in COUNTRY_CODES), key=lambda c: sort_key(c[1]))


@cache
def _names(locale):
    territories = Locale.parse(locale).territories
    return {code: territories.get(code, code) for code in COUNTRY_CODES}
