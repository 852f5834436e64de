"""Logging in and out in a real browser, as a person does: in German first, then in English."""

import re

from playwright.sync_api import expect


def test_person_logs_in_switches_to_english_and_logs_out(page, make_account):
    account = make_account(name="Lea Schäfer")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.get_by_role("heading", name="Bei Lotse anmelden")).to_be_visible()

    page.get_by_label("E-Mail-Adresse").fill(account.email)
    page.get_by_label("Passwort").fill(account.password)
    page.get_by_role("button", name="Anmelden").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Willkommen, Lea Schäfer")).to_be_visible()
    expect(page.get_by_role("link", name="Kontakte", exact=True)).to_be_visible()

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Welcome, Lea Schäfer")).to_be_visible()
    expect(page.get_by_role("link", name="Contacts", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Deutsch")).to_be_visible()

    page.get_by_role("button", name="Lea Schäfer").click()
    page.get_by_role("button", name="Log out").click()

    # Logging out ends the session; the login page stays in the person's language.
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Log in to Lotse")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_have_text("You have been logged out on all your devices.")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(page, make_account):
    account = make_account()

    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill(account.email)
    page.get_by_label("Passwort").fill("not the password")
    page.get_by_role("button", name="Anmelden").click()

    expect(page.get_by_role("alert")).to_have_text("E-Mail-Adresse oder Passwort ist nicht korrekt.")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Bei Lotse anmelden")).to_be_visible()
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(account.email)
