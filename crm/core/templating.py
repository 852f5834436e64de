"""What every template can use besides the request: formats, permissions, links to itself."""

from urllib.parse import urlencode

from flask import request, url_for
from flask_babel import get_locale

from crm.core.formatting import FILTERS


def url_with(**changes):
    """The current page's address with some query arguments changed (None removes one)."""
    return link_with(request.endpoint, **(request.view_args or {}), args=changes)


def link_with(endpoint, args=None, **values):
    """The address of `endpoint` with the current query arguments, changed by `args`.

    The query string is built here, not by `url_for`, so that no argument a visitor sends
    (`endpoint`, `_anchor`, `_method`, ...) can change how the address is built.
    """
    query = request.args.to_dict()
    for key, value in (args or {}).items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    path = url_for(endpoint, **values)
    return f"{path}?{urlencode(query)}" if query else path


def register_template_helpers(app, globals_):
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(url_with=url_with, link_with=link_with,
                                 current_locale=lambda: str(get_locale()),
                                 **globals_)
