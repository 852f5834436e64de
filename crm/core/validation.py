"""Checking data for the services, whoever sends it (a form, the API, an import, the CLI).

A `Checker` collects a message per field and raises one `ValidationError` naming them all, so a
form shows every problem at once and the API lists every bad field.
"""

import functools
import re
from datetime import date
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from crm.core.countries import is_country
from crm.core.services import ValidationError

LONG_TEXT_MAX = 20_000  # descriptions and notes: several pages, not a whole book
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Checker:
    """Reads fields from `data`, cleans them and collects what is wrong.

    Each method returns the cleaned value (None when the field is empty or wrong); call
    `done()` at the end to raise the collected errors.
    """

    def __init__(self, data):
        self.data = data
        self.errors = {}

    def fail(self, field, message):
        self.errors.setdefault(field, []).append(message)

    def done(self):
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise ValidationError(first, fields=self.errors)

    def _raw(self, field):
        return self.data.get(field)

    def text(self, field, *, max_length, required=False, multiline=False):
        value = self._raw(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(field, _l("Enter text."))
            return None
        value = value.strip()
        if (_CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value))
                or not encodable(value)):
            self.fail(field, _l("This text contains characters that are not allowed."))
            return None
        if required and not value:
            self.fail(field, _l("This field is required."))
            return None
        if len(value) > max_length:
            self.fail(field, _l("At most %(n)s characters, please.", n=format_decimal(max_length)))
            return None
        return value or None

    def choice(self, field, choices, *, required=False, default=None):
        value = self._raw(field)
        if value is None or value == "":
            if required and default is None:
                self.fail(field, _l("This field is required."))
            return default
        if not isinstance(value, str) or value not in {str(c) for c in choices}:
            self.fail(field, _l("Choose one of the offered values."))
            return None
        return value

    def choices(self, field, choices):
        """A list of values, each one of `choices`; duplicates removed, order kept."""
        value = self._raw(field)
        if value in (None, ""):
            return []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.fail(field, _l("Give a list of values."))
            return []
        allowed = {str(c) for c in choices}
        if any(not isinstance(v, str) or v not in allowed for v in value):
            self.fail(field, _l("Choose only offered values."))
            return []
        return list(dict.fromkeys(value))

    def boolean(self, field, *, default=False):
        value = self._raw(field)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "y", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "0", "n", "no", "off"}:
            return False
        self.fail(field, _l("Give yes or no."))
        return default

    def country(self, field, *, required=False):
        value = self._raw(field)
        if value is None or value == "":
            if required:
                self.fail(field, _l("This field is required."))
            return None
        if not isinstance(value, str) or not is_country(value.strip().upper()):
            self.fail(field, _l("Choose a country (ISO 3166 code such as DE or KR)."))
            return None
        return value.strip().upper()

    def email(self, field, *, required=False):
        value = self.text(field, max_length=254, required=required)
        if value is None:
            return None
        try:
            return normalised_email(value)
        except EmailNotValidError:
            self.fail(field, _l("Enter a valid email address."))
            return None

    def phone(self, field):
        """A phone number, stored in international E.164 form (+4936156030).

        A number without country code is read as one of `DEFAULT_PHONE_REGION` (Germany).
        """
        value = self.text(field, max_length=40)
        if value is None:
            return None
        try:
            number = phonenumbers.parse(value, current_app.config["DEFAULT_PHONE_REGION"])
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            self.fail(field, _l("Enter a valid phone number, e.g. +49 361 5603-450."))
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def url(self, field):
        """A web address; only http and https. `www.example.com` becomes https://www.example.com."""
        value = self.text(field, max_length=500)
        if value is None:
            return None
        if "://" not in value and not value.lower().startswith(("javascript:", "data:")):
            value = "https://" + value
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
        except ValueError:  # e.g. "http://[abc": not even a URL
            parts, hostname = None, None
        if parts is None or parts.scheme.lower() not in {"http", "https"} or not hostname \
                or " " in value or "." not in hostname:
            self.fail(field, _l("Enter a web address starting with http:// or https://."))
            return None
        return value

    def day(self, field, *, required=False):
        """A date: a `date`, or a string in ISO form (2026-03-05) or German form (05.03.2026)."""
        value = self._raw(field)
        if value in (None, ""):
            if required:
                self.fail(field, _l("This field is required."))
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            text = value.strip()
            match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
            try:
                if match:
                    return date(int(match[3]), int(match[2]), int(match[1]))
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                    return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(field, _l("Enter a date such as 21.11.2026."))
        return None

    def amount(self, field, *, units=False, maximum=10**13):
        """A whole, non-negative number as a German user types it: `12.500.000`, `1.200`,
        `12,5 Mio.` or `2 Mrd. €` (with `units`), or plain `12500000`. Rounded to whole units."""
        value = self._raw(field)
        if value is None or value == "":
            return None
        number = parse_amount(value, units=units)
        if number is None:
            self.fail(field, _l("Enter a number such as 12.500.000 or 12,5 Mio.") if units
                      else _l("Enter a whole number such as 1.200."))
            return None
        if number < 0:
            self.fail(field, _l("The number must not be negative."))
            return None
        if number > maximum:
            self.fail(field, _l("This number is too large."))
            return None
        return number

    def record_id(self, field, *, required=False):
        """An id: a positive whole number (the caller checks that the record exists)."""
        value = self._raw(field)
        if value in (None, ""):
            if required:
                self.fail(field, _l("This field is required."))
            return None
        if isinstance(value, bool):
            value = None
        elif isinstance(value, str) and value.strip().isdecimal():
            value = int(value.strip())
        if not isinstance(value, int) or not 0 < value < 2**31:
            self.fail(field, _l("Choose an existing record."))
            return None
        return value

    def record_ids(self, field):
        value = self._raw(field)
        if value in (None, ""):
            return []
        if isinstance(value, str | int) or not isinstance(value, list | tuple):
            self.fail(field, _l("Give a list of ids."))
            return []
        ids = []
        for item in value:
            if isinstance(item, str) and item.strip().isdecimal():
                item = int(item.strip())
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**31:
                self.fail(field, _l("Choose existing records."))
                return []
            ids.append(item)
        return list(dict.fromkeys(ids))


# A local part (before the @) of plain ASCII letters, digits and the signs email allows, as
# `email_validator` accepts it unchanged (RFC 5322 dot-atom), at most 64 characters.
_PLAIN_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalised_email(value):
    """An email address as stored (lower case), or EmailNotValidError as `email_validator`
    raises it. The part after the @ is checked once per domain (an import's 100,000 addresses
    share a few), the usual part before it by its pattern; anything else (a domain in other
    letters, whose length counts in bytes and in Punycode) goes to `email_validator` whole."""
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and _PLAIN_LOCAL_PART.fullmatch(local) and domain.isascii():
        address = f"{local}@{_email_domain(domain)}"
        if len(address) <= 254:
            return address.lower()
    return validate_email(value, check_deliverability=False).normalized.lower()


@functools.lru_cache(maxsize=1024)
def _email_domain(domain):
    """The domain of an address as `email_validator` normalises it, or EmailNotValidError."""
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def encodable(text):
    """False for text that cannot be stored, such as a lone surrogate from broken input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_UNITS = {"tsd": 10**3, "tausend": 10**3, "t": 10**3, "k": 10**3, "mio": 10**6,
          "million": 10**6, "millionen": 10**6, "m": 10**6, "mrd": 10**9, "milliarde": 10**9,
          "milliarden": 10**9, "bn": 10**9}
_AMOUNT = re.compile(r"(?P<number>-?[0-9][0-9.,\s\u00a0\u202f]*)\s*(?P<unit>[a-zäöü]*)\.?",
                     re.IGNORECASE)


def parse_amount(value, *, units=False):
    """The whole number in `value` (int or text in German notation), or None if there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e18 else None
    if not isinstance(value, str) or len(value) > 50:
        return None
    text = value.strip().lower()
    for currency in ("€", "eur", "euro"):
        text = text.removesuffix(currency).strip()
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    unit = match["unit"]
    if unit and (not units or unit not in _UNITS):
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", match["number"])
    if "," in digits:  # German decimal comma; dots group thousands
        whole, _, fraction = digits.replace(".", "").partition(",")
        if "," in fraction or not whole.lstrip("-").isdigit() or (fraction and not fraction.isdigit()):
            return None
        number = float(f"{whole}.{fraction or 0}")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", digits):  # 12.500.000
        number = float(digits.replace(".", ""))
    elif re.fullmatch(r"-?\d+(\.\d+)?", digits):  # 12500000, or 12.5 (with a unit)
        number = float(digits)
    else:
        return None
    if not unit and number != int(number):
        return None  # "12.5" or "1,5" alone is no whole amount: refuse, do not guess
    number *= _UNITS.get(unit, 1)
    return round(number)
