"""Headers that every response carries, and input that no request may bring."""

from urllib.parse import unquote_to_bytes

from flask import request

from crm.core.errors import refuse_unreadable

CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Pages and API answers carry personal data: no browser or proxy may keep them.
        headers["Cache-Control"] = "no-store"
    return response


def reject_unreadable_input():
    """Text that is not UTF-8, or holds a NUL character (which belongs in no text, and which
    PostgreSQL cannot store), in the address or a form: answer 400 at once, naming the field.

    Werkzeug would quietly keep undecodable bytes as `%XX` text; they are refused instead, so
    that what is stored is always what the person typed."""
    bad = _unreadable_field(request.query_string)
    if bad is None and request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype == "application/x-www-form-urlencoded":
            bad = _unreadable_field(request.get_data(cache=True))
        elif request.mimetype == "multipart/form-data":
            bad = next((key for key, values in request.form.lists()
                        if "\x00" in key or any("\x00" in value for value in values)), None)
    if bad is not None:
        return refuse_unreadable(bad)
    return None


def _unreadable_field(encoded):
    """The name of the first URL-encoded field whose name or value is not UTF-8 text without
    NUL characters (undecodable names come back as they can be read), else None."""
    for pair in encoded.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        for part in (raw_name, unquote_to_bytes(value.replace(b"+", b" "))):
            try:
                text = part.decode("utf-8")
            except UnicodeDecodeError:
                return raw_name.decode("utf-8", "replace")
            if "\x00" in text:
                return raw_name.decode("utf-8", "replace")
    return None
