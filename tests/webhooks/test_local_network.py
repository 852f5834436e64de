"""Webhooks do not reach into the local network unless `WEBHOOK_ALLOW_LOCAL_NETWORK` allows it:
such an address is refused by name when registered, and a delivery to one is not sent."""

import pytest
import sqlalchemy as sa

from crm.core.services import ValidationError
from crm.extensions import db
from crm.webhooks import delivery, services
from crm.webhooks.models import WebhookDelivery
from tests.conftest import log_in
from tests.factories import make_lead, make_user
from tests.webhooks.conftest import Receiver

LOCAL = ["http://127.0.0.1:8080/hooks", "http://localhost/hooks", "https://app.localhost/h",
         "http://10.1.2.3/hooks", "http://192.168.0.5/hooks", "http://172.16.4.2/hooks",
         "http://169.254.169.254/latest/meta-data", "http://[::1]/hooks",
         "http://[::ffff:127.0.0.1]/hooks", "http://[fd00::5]/hooks", "http://0.0.0.0/hooks",
         "http://100.64.0.1/hooks", "http://224.0.0.1/hooks"]
PUBLIC = ["https://partner.example.org/hooks/lotse", "http://93.184.216.34/hooks",
          "https://[2606:4700:4700::1111]/hooks"]


def register(url):
    return services.create_webhook({"url": url, "events": ["lead.created"], "is_active": True},
                                   actor=None)


@pytest.fixture
def guarded(app_factory):
    """An app as in production: no webhooks to the local network."""
    app = app_factory(WEBHOOK_ALLOW_LOCAL_NETWORK=False)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.mark.parametrize("url", LOCAL)
def test_a_local_address_is_refused_by_name(guarded, url):
    with pytest.raises(ValidationError) as refused:
        register(url)
    assert "url" in refused.value.fields
    assert "WEBHOOK_ALLOW_LOCAL_NETWORK" in str(refused.value.fields["url"][0])


@pytest.mark.parametrize("url", PUBLIC)
def test_a_public_address_is_taken(guarded, url):
    webhook, _secret = register(url)
    assert webhook.url == url


def test_the_page_names_the_local_address_beside_the_field(guarded):
    admin = make_user(role="admin")
    client = guarded.test_client()
    log_in(client, admin)
    response = client.post("/admin/webhooks/new", data={"url": "http://10.0.0.8/hooks",
                                                         "events": ["lead.created"]})
    assert response.status_code == 422
    assert "WEBHOOK_ALLOW_LOCAL_NETWORK" in response.get_data(as_text=True)


def test_a_delivery_to_the_local_network_is_not_sent(app_factory):
    """Registered while allowed, sent while not (the setting changed): refused without a
    connection, the reason recorded, and tried again later like any failure."""
    receiver = Receiver()
    allowed = app_factory()
    with allowed.app_context():
        register(receiver.url)
        db.session.commit()
    guarded = app_factory(WEBHOOK_ALLOW_LOCAL_NETWORK=False)
    with guarded.app_context():
        make_lead()  # its message is written, then the sender refuses the address
        delivery.wait_for_senders(guarded)
        db.session.rollback()
        [sent] = db.session.scalars(sa.select(WebhookDelivery)).all()
        assert sent.state == "pending" and sent.response_status is None
        assert "local network" in sent.error
        db.session.remove()
    assert receiver.messages() == []
    receiver.close()
