"""JSON answers with dates and moments in ISO 8601 (`2025-05-21`, `2025-05-21T09:30:00+00:00`),
as the API's document promises; Flask's own provider writes them as HTTP dates."""

from datetime import date

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    @staticmethod
    def default(o):
        if isinstance(o, date):  # a datetime is a date too
            return o.isoformat()
        return DefaultJSONProvider.default(o)
