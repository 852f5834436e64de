import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_pages_carry_a_strict_content_security_policy_and_no_store(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'",
                      "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_over_https(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.2",
                                  "crm.agentur.de.evil.example"])
def test_a_host_name_not_configured_is_refused(client, host):
    for path in ("/login", "/api/v1/leads", "/healthz"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path)
    assert "evil" not in client.get("/login", headers={"Host": host}).get_data(as_text=True)


def test_the_configured_host_names_are_answered(app_factory):
    app = app_factory(TRUSTED_HOSTS=["crm.agentur.de", ".lotse.example"])
    client = app.test_client()
    for host in ("crm.agentur.de", "crm.agentur.de:8443", "lotse.example", "berlin.lotse.example"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/api/v1/leads", headers={"Host": "localhost"}).is_json


def test_a_forwarded_host_must_be_configured_too(app_factory):
    """Behind a proxy the forwarded host counts, and a forged one is refused."""
    client = app_factory(PROXY_COUNT=1, TRUSTED_HOSTS=["crm.agentur.de"]).test_client()
    ok = client.get("/login", headers={"Host": "10.0.0.5",
                                       "X-Forwarded-Host": "crm.agentur.de"})
    assert ok.status_code == 200
    forged = client.get("/login", headers={"Host": "crm.agentur.de",
                                           "X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400


def test_trusted_hosts_come_from_the_environment(tmp_path):
    from config import load_config

    config = load_config(tmp_path, {"TRUSTED_HOSTS": " crm.agentur.de, .lotse.example ,"})
    assert config["TRUSTED_HOSTS"] == ["crm.agentur.de", ".lotse.example"]
    assert load_config(tmp_path, {})["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_session_cookie_is_httponly_and_samesite(app, login):
    user, _ = login()
    client = app.test_client()
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery staple"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_style_or_event_handler(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "style= attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "hx-on" not in html
