"""The one thing about access that the core knows: which views need no login."""


def public(view):
    """Mark a view as open without login (the login page, the health check)."""
    view.is_public = True
    return view


def is_public(view):
    return getattr(view, "is_public", False)
