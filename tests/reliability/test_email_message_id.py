"""Every outbox email keeps one Message-ID across attempts, so a copy sent again after a
lost reply (or a worker killed between the SMTP server's 250 and the row being marked
sent) is recognisable by the receiving side; two brands' rows never share an id."""

import re

import pytest
from aiosmtpd.controller import Controller
from django_tenants.utils import schema_context

from chat.models import OutboundEmail
from chat.outbox import outbox_deliver
from tests.ports import free_port
from tests.factories import next_ids_aligned

pytestmark = pytest.mark.django_db(transaction=True)


class FlakyInbox:
    """Keeps every message it is given, but answers the first with a temporary failure,
    as if the reply had been lost: the sender tries again."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "451 try again later" if len(self.messages) == 1 else "250 OK"


@pytest.fixture
def flaky_smtp(settings):
    inbox = FlakyInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


def message_id(raw: str) -> str:
    return re.search(r"^Message-ID: (\S+)", raw, re.MULTILINE | re.IGNORECASE).group(1)


def test_a_resent_email_keeps_its_message_id_and_brands_never_share_one(alpha, beta, flaky_smtp):
    next_ids_aligned(OutboundEmail, "brand_alpha", "brand_beta")
    with schema_context("brand_alpha"):
        alpha_email = OutboundEmail.objects.create(to="a@example.com", subject="Transcript", body="x", kind="test")
        assert outbox_deliver() == 0  # 451: kept for the next attempt
        assert outbox_deliver() == 1
    with schema_context("brand_beta"):
        assert OutboundEmail.objects.create(to="b@example.com", subject="Transcript", body="y", kind="test").id == alpha_email.id  # ids repeat across brands
        assert outbox_deliver() == 1
    ids = [message_id(raw) for raw in flaky_smtp.messages]
    assert len(ids) == 3
    assert ids[0] == ids[1]  # the same email twice: one id, the receiver can drop the copy
    assert ids[2] != ids[0] and "brand_beta" in ids[2]
