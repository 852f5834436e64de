"""The board's cards: each stage's most valuable leads first, those without a CAPEX after
them (the newest first), at most the limit per stage."""

from crm.extensions import db
from crm.leads import queries
from tests.factories import make_lead, make_user


def cards(user, limit):
    rows = db.session.execute(queries.board_cards(queries.filtered(user), limit=limit)).all()
    by_stage = {}
    for lead, _follow_up in rows:
        by_stage.setdefault(lead.stage, []).append(lead.title)
    return by_stage


def test_the_most_valuable_first_then_those_without_capex(app):
    manager = make_user(role="manager")
    for title, capex in (("Mittel", 5_000_000), ("Ohne A", None), ("Groß", 90_000_000),
                         ("Ohne B", None), ("Klein", 100_000), ("Ohne C", None)):
        make_lead(title=title, capex_eur=capex)
    make_lead(title="Anderswo", capex_eur=1, stage="prospect", sector="automotive",
              investment_type="greenfield", new_jobs=3)
    assert cards(manager, 10) == {"lead": ["Groß", "Mittel", "Klein", "Ohne C", "Ohne B",
                                           "Ohne A"], "prospect": ["Anderswo"]}
    assert cards(manager, 2) == {"lead": ["Groß", "Mittel"], "prospect": ["Anderswo"]}
    assert cards(manager, 4)["lead"] == ["Groß", "Mittel", "Klein", "Ohne C"]
