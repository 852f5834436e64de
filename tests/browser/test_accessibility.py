"""The pages pass axe-core's automated accessibility check in a real browser."""

from playwright.sync_api import expect

from tests.browser.conftest import AXE_URL_PATH


def axe_violations(page):
    """Run axe-core on the page as it is now and return its violations."""
    page.add_script_tag(url=AXE_URL_PATH)
    return page.evaluate("async () => (await axe.run()).violations")


def describe(violations):
    """Violations as a person reads them: rule, help, and each element with what is wrong."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}"
                     f" <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"  - {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            # What is wrong with this element, e.g. the colours and the contrast ratio found.
            summary = node["failureSummary"].splitlines()
            lines.extend(f"      {line.strip()}" for line in summary[1:] if line.strip())
    return "\n".join(lines)


def assert_accessible(page):
    # Checked as the page rests: the pointer away from whatever the test clicked last.
    page.mouse.move(0, 0)
    violations = axe_violations(page)
    assert not violations, f"axe-core found on {page.url}:\n{describe(violations)}"


def test_login_page_is_accessible(page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Bei Lotse anmelden")).to_be_visible()
    assert_accessible(page)


def test_home_page_is_accessible(page, sign_in):
    sign_in()
    assert_accessible(page)


def test_admin_user_list_is_accessible(page, sign_in, make_account):
    make_account(name="Jonas Weber")
    sign_in(role="admin")
    page.goto("/admin/users")
    expect(page.get_by_role("link", name="Jonas Weber")).to_be_visible()
    assert_accessible(page)


def test_new_user_form_with_errors_is_accessible(page, sign_in):
    sign_in(role="admin")
    page.goto("/admin/users/new")
    page.get_by_role("button", name="Benutzer anlegen").click()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_api_reference_is_accessible(page):
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name="API-Referenz", exact=False)).to_be_visible()
    assert_accessible(page)


def test_account_page_is_accessible(page, sign_in):
    account = sign_in()
    # The menu works once its script has run: wait for the page to have loaded it.
    page.wait_for_load_state("load")
    page.get_by_role("button", name=account.name).click()
    page.get_by_role("link", name="Mein Konto").click()
    expect(page.get_by_role("heading", name="Mein Konto")).to_be_visible()
    assert_accessible(page)
    # A token made on the page: shown once, then listed by its beginning, with its errors
    # and its table accessible too.
    page.get_by_role("button", name="Token erstellen").click()
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Name des Tokens").fill("Newsletter-Abgleich")
    page.get_by_label("Nur lesen").check()
    page.get_by_role("button", name="Token erstellen").click()
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("lotse_")
    row = page.locator("#tokens-table tr", has_text="Newsletter-Abgleich")
    expect(row).to_contain_text("nur lesen")
    assert_accessible(page)
    page.goto("/account")
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    expect(page.locator("#tokens-table")).to_contain_text(token[:12])


def test_network_pages_are_accessible(page, sign_in, live_app):
    from tests.factories import make_contact, make_event, make_organisation

    with live_app.app_context():
        hyundai = make_organisation(name="Hyundai Motor Company", country="KR",
                                    sectors=["automotive"], tags=["Korea"])
        person = make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung",
                              organisation=hyundai, email="mj.kim@hyundai.example")
        trip = make_event(name="Delegationsreise Südkorea", kind="trip", starts_on="2024-09-02",
                          ends_on="2024-09-06", country="KR")
        breakfast = make_event(name="Business Breakfast Seoul", parent_id=trip.id,
                               starts_on="2024-09-03", partner_ids=[hyundai.id],
                               attendees=[{"contact_id": person.id, "status": "met"}])
        urls = ["/organisations", f"/organisations/{hyundai.id}", "/organisations/new",
                f"/organisations/{hyundai.id}/edit", "/contacts", f"/contacts/{person.id}",
                "/contacts/new", "/events", f"/events/{trip.id}", f"/events/{breakfast.id}",
                "/events/new", f"/events/{breakfast.id}/edit", "/search?q=kim"]
    sign_in()
    for url in urls:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)


def test_a_form_with_errors_is_accessible(page, sign_in):
    sign_in()
    page.goto("/organisations/new")
    page.get_by_label("Website").fill("javascript:alert(1)")
    page.get_by_role("button", name="Organisation anlegen").click()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_webhook_pages_are_accessible(page, sign_in, live_app):
    from tests.factories import make_lead

    sign_in(role="admin")
    page.goto("/admin/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    assert_accessible(page)  # with nothing registered yet
    page.get_by_role("link", name="Neuer Webhook").click()
    for box in page.locator("input[name=events]").all():
        box.uncheck()
    page.get_by_label("Adresse (URL)").fill("ftp://files.example.org/in")
    page.get_by_role("button", name="Webhook anlegen").click()
    expect(page.get_by_label("Adresse (URL)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#events-error")).to_be_visible()
    assert_accessible(page)
    # Nothing listens on port 9: the delivery fails and waits for its next attempt.
    page.get_by_label("Adresse (URL)").fill("http://127.0.0.1:9/hooks/lotse")
    page.get_by_label("Beschreibung").fill("Partnerplattform")
    page.get_by_label("Ein Lead wird angelegt").check()
    page.get_by_role("button", name="Webhook anlegen").click()
    expect(page.get_by_test_id("webhook-secret")).to_be_visible()
    assert_accessible(page)
    with live_app.app_context():
        from crm.webhooks.delivery import wait_for_senders

        make_lead(title="Mobis Erweiterung Erfurt")
        wait_for_senders(live_app)
    page.get_by_role("link", name="Zum Webhook").click()
    expect(page.locator("#deliveries")).to_contain_text("Mobis Erweiterung Erfurt")
    expect(page.get_by_test_id("webhook-secret")).to_have_count(0)
    assert_accessible(page)
    page.goto("/admin/webhooks")
    expect(page.get_by_role("link", name="http://127.0.0.1:9/hooks/lotse")).to_be_visible()
    assert_accessible(page)
