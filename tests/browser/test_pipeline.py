"""The pipeline board in a real browser: drag a lead on, be told what is missing, fix it."""

from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible
from tests.factories import make_lead, make_organisation, make_user


def card_in(page, stage, title):
    return page.get_by_role("list", name=f"Leads in der Phase {stage}").get_by_role(
        "listitem").filter(has_text=title)


def test_drag_a_lead_to_active_is_refused_until_it_has_a_project_manager(page, live_app,
                                                                         sign_in):
    with live_app.app_context():
        member = make_user(name="Jonas Weber", email="jonas@lotse.example")
        lead = make_lead(actor=member, organisation=make_organisation(name="Samsung SDI"),
                         title="Batteriemodul-Montage", owner_id=None,
                         team_member_ids=[member.id], sector="emobility_batteries",
                         investment_type="greenfield", capex_eur=80_000_000, new_jobs=350,
                         likelihood="medium")
        from crm.extensions import db
        from crm.leads import services

        services.change_stage(lead, "prospect", actor=member)
        db.session.commit()
    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill("jonas@lotse.example")
    page.get_by_label("Passwort").fill("correct horse battery staple")
    page.get_by_role("button", name="Anmelden").click()

    page.goto("/pipeline")
    card = card_in(page, "Interessent", "Batteriemodul-Montage")
    expect(card).to_be_visible()
    card.drag_to(page.get_by_role("list", name="Leads in der Phase Aktiv"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Für die Phase „Aktiv“ fehlt diesem Lead noch: Projektleitung.")
    expect(card_in(page, "Interessent", "Batteriemodul-Montage")).to_be_visible()
    expect(card_in(page, "Aktiv", "Batteriemodul-Montage")).to_have_count(0)

    card_in(page, "Interessent", "Batteriemodul-Montage").get_by_role(
        "link", name="Batteriemodul-Montage").click()
    page.get_by_role("link", name="Bearbeiten").click()
    page.get_by_label("Projektleitung").select_option(label="Jonas Weber")
    page.get_by_role("button", name="Änderungen speichern").click()
    expect(page.get_by_text("Für die Phase „Aktiv“ fehlt diesem Lead noch:")).to_have_count(0)

    page.goto("/pipeline")
    card_in(page, "Interessent", "Batteriemodul-Montage").drag_to(
        page.get_by_role("list", name="Leads in der Phase Aktiv"))
    expect(page.get_by_role("status").filter(has_text="ist jetzt in der Phase")).to_be_visible()
    expect(card_in(page, "Aktiv", "Batteriemodul-Montage")).to_be_visible()
    active = page.get_by_role("region", name="Aktiv")
    expect(active.locator('[data-total="capex"]')).to_have_text("80.000.000\xa0€")


def test_the_board_is_accessible(page, live_app, sign_in):
    with live_app.app_context():
        for title, stage in (("Sensorik-Werk", "lead"), ("Optik-Zentrum", "lead")):
            make_lead(title=title, capex_eur=12_000_000, stage=stage)
    sign_in()
    page.goto("/pipeline")
    expect(page.get_by_role("heading", name="Pipeline", level=1)).to_be_visible()
    assert_accessible(page)
    page.goto("/leads")
    assert_accessible(page)
    page.get_by_role("link", name="Sensorik-Werk").click()
    assert_accessible(page)
