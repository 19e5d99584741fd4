"""Attachments both ways over the widget and agent APIs: upload, reference in a message,
download with the right headers; and everything that must be refused."""

import json
import re
import time

import pytest
from django.core import signing
from django.core.files.storage import storages
from django.test import Client
from django_tenants.utils import schema_context

from chat.attachments import LINK_SALT, attachment_link_sign, content_disposition, name_clean
from chat.models import Attachment, Conversation, Message
from helpdesk.models import AgentToken
from tenants.models import Brand
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed, next_ids_aligned
from tests.files import EXE, GPS_IFD, HTML, ORIENTATION, SVG, exif_of, image_with_gps, pdf, png

pytestmark = pytest.mark.django_db

ALPHA = {"HTTP_HOST": "alpha.localhost"}
PLATFORM = {"HTTP_HOST": "localhost"}


def upload_file(name: str, data: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


class Chat:
    """One active chat in alpha with its customer's and its agent's credentials."""

    def __init__(self, slug: str = "alpha", agent=None):
        self.agent = agent or agent_staffed(slug)
        self.brand, self.conversation, self.token = conversation_active(agent=self.agent, slug=slug)
        self.host = {"HTTP_HOST": f"{slug}.localhost"}
        self.customer = {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **self.host}
        _, raw = AgentToken.issue(user=self.agent.user)
        self.agent_auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}", **PLATFORM}
        self.widget = f"/api/widget/v1/conversations/{self.conversation.id}"
        self.agent_api = f"/api/agent/v1/brands/{slug}/conversations/{self.conversation.id}"

    def customer_upload(self, client, name, data, **extra):
        return client.post(f"{self.widget}/attachments", {"file": upload_file(name, data)}, **{**self.customer, **extra})

    def agent_upload(self, client, name, data):
        return client.post(f"{self.agent_api}/attachments", {"file": upload_file(name, data)}, **self.agent_auth)

    def customer_send(self, client, **body):
        return client.post(f"{self.widget}/messages", body, content_type="application/json", **self.customer)

    def agent_send(self, client, **body):
        return client.post(f"{self.agent_api}/messages", body, content_type="application/json", **self.agent_auth)


@pytest.fixture
def chat(alpha):
    return Chat()


def test_customer_image_reaches_the_agent_without_its_location(chat):
    client = Client()
    uploaded = chat.customer_upload(client, "holiday.jpg", image_with_gps(size=(64, 32)))
    assert uploaded.status_code == 201, uploaded.content
    attachment = uploaded.json()
    assert attachment["content_type"] == "image/jpeg" and attachment["is_image"] and attachment["thumbnail_url"]
    assert exif_of(image_with_gps())[0].get(GPS_IFD)  # the fixture does carry a location

    sent = chat.customer_send(client, client_msg_id="c-img", body="Here is the damage", attachment_ids=[attachment["id"]])
    assert sent.status_code == 201, sent.content
    assert [a["id"] for a in sent.json()["attachments"]] == [attachment["id"]]

    messages = client.get(f"{chat.agent_api}/messages", **chat.agent_auth).json()["messages"]
    received = next(m for m in messages if m["client_msg_id"] == "c-img")
    item = received["attachments"][0]
    assert item["name"] == "holiday.jpg" and item["download_url"] == f"{chat.agent_api}/attachments/{attachment['id']}"

    downloaded = client.get(item["download_url"], **chat.agent_auth)
    assert downloaded.status_code == 200
    data = b"".join(downloaded.streaming_content)
    exif, size = exif_of(data)
    assert GPS_IFD not in exif and ORIENTATION not in exif
    assert size == (32, 64)  # the orientation was applied before it was dropped
    assert downloaded["Content-Type"] == "image/jpeg"
    assert downloaded["Content-Disposition"].startswith("attachment;")

    thumbnail = client.get(item["thumbnail_url"], **chat.agent_auth)
    assert thumbnail.status_code == 200 and thumbnail["Content-Disposition"].startswith("inline;")

    with schema_context(chat.brand.schema_name):
        stored = Attachment.objects.get(pk=attachment["id"])
    # The brand's own folder, the conversation's, a random name: never the customer's.
    assert re.fullmatch(rf"brand_alpha/attachments/{chat.conversation.id}/[A-Za-z0-9_-]{{32}}", stored.storage_path)
    assert stored.message_id == received["id"] and len(stored.sha256) == 64


def test_agent_pdf_reaches_the_customer_as_a_download(chat):
    client = Client()
    uploaded = chat.agent_upload(client, "Rechnung März.pdf", pdf())
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["content_type"] == "application/pdf" and uploaded.json()["thumbnail_url"] is None
    sent = chat.agent_send(client, client_msg_id="a-pdf", body="", attachment_ids=[uploaded.json()["id"]])
    assert sent.status_code == 201, sent.content

    messages = client.get(f"{chat.widget}/messages", **chat.customer).json()["messages"]
    item = next(m for m in messages if m["client_msg_id"] == "a-pdf")["attachments"][0]
    assert item["name"] == "Rechnung März.pdf" and not item["is_image"]
    assert "?sig=" in item["download_url"]

    # The signed link alone opens it: no token, no cookie (a plain link in the page).
    downloaded = Client().get(item["download_url"], **chat.host)
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == pdf()
    assert downloaded["Content-Type"] == "application/pdf"
    assert downloaded["Content-Disposition"] == "attachment; filename=\"Rechnung M_rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
    assert downloaded["X-Content-Type-Options"] == "nosniff"
    assert downloaded["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert downloaded["Cache-Control"].startswith("private")

    # And so does the conversation's token.
    by_token = client.get(f"{chat.widget}/attachments/{item['id']}", **chat.customer)
    assert by_token.status_code == 200


def test_text_is_served_as_text_and_never_inline(chat):
    uploaded = chat.customer_upload(Client(), "log.txt", "Fehler: ünicode\n".encode())
    assert uploaded.status_code == 201, uploaded.content
    attachment = uploaded.json()
    downloaded = Client().get(attachment["download_url"], **chat.host)
    assert downloaded["Content-Type"] == "text/plain; charset=utf-8"
    assert downloaded["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("setup.exe", EXE, "type_not_allowed"),
        ("page.html", HTML, "type_not_allowed"),
        ("notes.txt", HTML, "type_not_allowed"),  # markup under a text name is still markup
        ("logo.svg", SVG, "type_not_allowed"),
        ("photo.png", HTML, "type_not_allowed"),
        ("photo.png", EXE, "type_not_allowed"),
        ("invoice.pdf", png(), "type_mismatch"),
        ("photo.png", pdf(), "type_mismatch"),
        ("photo.gif", png(), "type_mismatch"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "bad_image"),
        ("empty.txt", b"", "empty_file"),
        ("binary.txt", b"abc\x00def", "type_not_allowed"),
    ],
)
def test_refused_files_store_nothing(chat, name, data, code):
    for response in (chat.customer_upload(Client(), name, data), chat.agent_upload(Client(), name, data)):
        assert response.status_code in (400, 415), response.content
        assert response.json()["code"] == code and response.json()["detail"]
    with schema_context(chat.brand.schema_name):
        assert not Attachment.objects.exists()


def test_a_type_the_brand_does_not_allow_is_refused(chat):
    Brand.objects.filter(pk=chat.brand.pk).update(attachment_types=["application/pdf"])
    refused = chat.customer_upload(Client(), "photo.png", png())
    assert refused.status_code == 415 and refused.json()["code"] == "type_not_allowed"
    assert refused.json()["detail"].endswith("You can send: PDF.")
    assert chat.customer_upload(Client(), "doc.pdf", pdf()).status_code == 201


def test_oversized_files_are_refused(chat, settings):
    Brand.objects.filter(pk=chat.brand.pk).update(attachment_max_bytes=1000)
    refused = chat.customer_upload(Client(), "big.txt", b"a" * 1001)
    assert refused.status_code == 413 and refused.json()["code"] == "file_too_large"
    assert chat.customer_upload(Client(), "small.txt", b"a" * 1000).status_code == 201

    # Past the server's ceiling the body is not even read to the end.
    settings.ATTACHMENT_UPLOAD_MAX_BYTES = 2000
    Brand.objects.filter(pk=chat.brand.pk).update(attachment_max_bytes=10**6)
    streamed = chat.agent_upload(Client(), "big.txt", b"a" * 5000)
    assert streamed.status_code == 413 and streamed.json()["code"] == "file_too_large"
    declared = chat.customer_upload(Client(), "big.txt", b"a" * 10, CONTENT_LENGTH="999999999")
    assert declared.status_code == 413


def test_attachments_off_for_a_brand(chat):
    Brand.objects.filter(pk=chat.brand.pk).update(attachment_max_bytes=0)
    refused = chat.customer_upload(Client(), "a.txt", b"hello")
    assert refused.status_code == 403 and refused.json()["code"] == "attachments_off"


def test_another_conversations_token_or_link_and_another_brands_host_are_refused(chat, beta):
    client = Client()
    mine = chat.customer_upload(client, "a.png", png()).json()
    chat.customer_send(client, body="see", attachment_ids=[mine["id"]])
    other = Chat(agent=chat.agent)
    other_file = other.customer_upload(client, "b.png", png()).json()

    # The other conversation's token on this conversation's attachment.
    assert client.get(f"{chat.widget}/attachments/{mine['id']}", HTTP_AUTHORIZATION=f"Bearer {other.token}", **ALPHA).status_code == 404
    # This conversation's URL with the other conversation's attachment id.
    assert client.get(f"{chat.widget}/attachments/{other_file['id']}", **chat.customer).status_code == 404
    # A link signed for one attachment does not open another.
    sig = mine["download_url"].split("sig=")[1]
    assert client.get(f"{other.widget}/attachments/{other_file['id']}?sig={sig}", **ALPHA).status_code == 404
    tampered = sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")
    answer = client.get(f"{chat.widget}/attachments/{mine['id']}?sig={tampered}", **ALPHA)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    # Another brand's host with a genuine link (the schema is in the signature), where that
    # brand has a conversation and an attachment under the very same ids.
    next_ids_aligned(Conversation, "brand_alpha", "brand_beta")
    theirs, ours = Chat("beta"), Chat(agent=chat.agent)
    next_ids_aligned(Attachment, "brand_alpha", "brand_beta")
    their_link, our_link = (c.customer_upload(client, "c.png", png()).json()["download_url"] for c in (theirs, ours))
    assert (theirs.conversation.id, their_link.split("?")[0]) == (ours.conversation.id, our_link.split("?")[0])  # ids repeat across brands
    assert client.get(their_link, HTTP_HOST="beta.localhost").status_code == 200
    on_beta = client.get(our_link, HTTP_HOST="beta.localhost")
    assert on_beta.status_code == 404 and on_beta["Content-Type"] == "application/json"
    # An agent of another brand only.
    beta_agent = agent_staffed("beta")
    _, raw = AgentToken.issue(user=beta_agent.user)
    assert client.get(f"{chat.agent_api}/attachments/{mine['id']}", HTTP_AUTHORIZATION=f"Bearer {raw}", **PLATFORM).status_code == 404
    # No credentials at all.
    assert client.get(f"{chat.widget}/attachments/{mine['id']}", **ALPHA).status_code == 404


def test_an_expired_link_is_refused(chat):
    mine = chat.customer_upload(Client(), "a.png", png()).json()
    expired = signing.dumps({"s": "brand_alpha", "c": chat.conversation.id, "a": mine["id"], "e": int(time.time()) - 1}, salt=LINK_SALT, compress=False)
    answer = Client().get(f"{chat.widget}/attachments/{mine['id']}?sig={expired}", **ALPHA)
    assert answer.status_code == 403 and answer.json()["code"] == "link_expired"
    fresh = attachment_link_sign(schema="brand_alpha", conversation_id=chat.conversation.id, attachment_id=mine["id"])
    assert Client().get(f"{chat.widget}/attachments/{mine['id']}/thumbnail?sig={fresh}", **ALPHA).status_code == 200


def test_an_attachment_is_sent_once_in_its_own_conversation_by_its_own_side(chat):
    client = Client()
    mine = chat.customer_upload(client, "a.png", png()).json()
    other = Chat(agent=chat.agent)
    # Not in another conversation.
    refused = other.customer_send(client, body="x", attachment_ids=[mine["id"]])
    assert refused.status_code == 400 and refused.json()["code"] == "attachment_unavailable"
    # Not by the other side.
    refused = chat.agent_send(client, body="x", attachment_ids=[mine["id"]])
    assert refused.status_code == 400 and refused.json()["code"] == "attachment_unavailable"
    # A refused message leaves no message and no gap in the sequence.
    with schema_context(chat.brand.schema_name):
        last_seq = Message.objects.filter(conversation=chat.conversation).order_by("-seq").first().seq
    first = chat.customer_send(client, client_msg_id="once", body="", attachment_ids=[mine["id"]])
    assert first.status_code == 201 and first.json()["seq"] == last_seq + 1
    # A retry of the same message is the same message, files and all.
    retried = chat.customer_send(client, client_msg_id="once", body="", attachment_ids=[mine["id"]])
    assert retried.status_code == 200 and retried.json()["id"] == first.json()["id"] and retried.json()["attachments"][0]["id"] == mine["id"]
    # A second message cannot take it again.
    again = chat.customer_send(client, client_msg_id="twice", body="", attachment_ids=[mine["id"]])
    assert again.status_code == 400 and again.json()["code"] == "attachment_unavailable"
    # Nor a message of no text and no file.
    assert chat.customer_send(client, body="").json()["code"] == "empty_body"


def test_the_customer_never_sees_a_note_file_nor_an_unsent_agent_file(chat):
    client = Client()
    unsent = chat.agent_upload(client, "draft.pdf", pdf()).json()
    noted = chat.agent_upload(client, "note.pdf", pdf()).json()
    assert chat.agent_send(client, body="for colleagues", internal=True, attachment_ids=[noted["id"]]).status_code == 201
    for attachment_id in (unsent["id"], noted["id"]):
        sig = attachment_link_sign(schema="brand_alpha", conversation_id=chat.conversation.id, attachment_id=attachment_id)
        assert client.get(f"{chat.widget}/attachments/{attachment_id}?sig={sig}", **ALPHA).status_code == 404
        assert client.get(f"{chat.widget}/attachments/{attachment_id}", **chat.customer).status_code == 404
    messages = client.get(f"{chat.widget}/messages", **chat.customer).json()["messages"]
    assert all(not m["attachments"] for m in messages)


def test_transcript_email_lists_files_as_links(chat):
    from chat import services
    from chat.customer_emails import transcript_email_request

    client = Client()
    mine = chat.customer_upload(client, "receipt.pdf", pdf()).json()
    chat.customer_send(client, body="attached", attachment_ids=[mine["id"]])
    with schema_context(chat.brand.schema_name):
        services.conversation_end(brand=chat.brand, conversation_id=chat.conversation.id, ended_by="customer")
        chat.conversation.refresh_from_db()
        email = transcript_email_request(brand=chat.brand, conversation=chat.conversation)
    link = re.search(r"http://alpha\.localhost\S*/attachments/\d+\?sig=\S+", email.body)
    assert "receipt.pdf" in email.body and link, email.body
    downloaded = Client().get(link.group(0).split("alpha.localhost", 1)[1].split(":8000", 1)[-1], **ALPHA)
    assert downloaded.status_code == 200
    assert pdf() not in email.body.encode()


def test_names_are_made_safe_and_files_stay_in_storage(chat):
    assert name_clean("../../etc/passwd") == "passwd"
    assert name_clean("C:\\Users\\me\\a\u202eb.txt") == "ab.txt"
    assert name_clean("") == "file"
    assert len(name_clean("x" * 400 + ".pdf")) == 255 and name_clean("x" * 400 + ".pdf").endswith(".pdf")
    assert content_disposition('a"b;c.txt') == "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%3Bc.txt"
    uploaded = chat.customer_upload(Client(), "../../secret.txt", b"hello")
    with schema_context(chat.brand.schema_name):
        stored = Attachment.objects.get(pk=uploaded.json()["id"])
    assert stored.name == "secret.txt" and storages["default"].exists(stored.storage_path)
    assert ".." not in stored.storage_path and "secret" not in stored.storage_path


def test_the_brand_admin_lists_files_as_links_behind_its_own_sign_in(chat, beta):
    from tests.factories import UserFactory

    client = Client()
    mine = chat.customer_upload(client, "<img src=x onerror=alert(1)>.txt", b"hello").json()
    chat.customer_send(client, body="file", attachment_ids=[mine["id"]])
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/chat/conversation/{chat.conversation.id}/change/", **ALPHA).content.decode()
    link = f"/admin/chat/conversation/{chat.conversation.id}/attachments/{mine['id']}/"
    assert link in page and "&lt;img src=x onerror=alert(1)&gt;.txt" in page and "<img src=x" not in page
    downloaded = client.get(link, **ALPHA)
    assert downloaded.status_code == 200 and downloaded["Content-Disposition"].startswith("attachment;")
    # Signed out, or on another brand's admin: no file.
    assert Client().get(link, **ALPHA).status_code == 302
    assert client.get(link, HTTP_HOST="beta.localhost").status_code == 404


def test_refusals_speak_the_customers_language(chat):
    refused = chat.customer_upload(Client(), "setup.exe", EXE, HTTP_X_HELPDESK_LOCALE="de")
    assert refused.json()["detail"] == "Diese Art von Datei kann nicht angehängt werden. Sie können senden: PNG, JPEG, GIF, WebP, PDF, TXT."
    mismatch = chat.customer_upload(Client(), "facture.pdf", png(), HTTP_X_HELPDESK_LOCALE="fr")
    assert mismatch.json()["detail"].startswith("Le nom du fichier indique .pdf mais il contient du PNG.")


def test_a_chat_holds_a_bounded_number_of_files(chat, settings):
    settings.ATTACHMENT_MAX_PER_CONVERSATION = 2
    assert chat.customer_upload(Client(), "a.txt", b"a").status_code == 201
    assert chat.agent_upload(Client(), "b.txt", b"b").status_code == 201
    refused = chat.customer_upload(Client(), "c.txt", b"c")
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_attachments"


def test_files_never_sent_are_pruned_with_their_files(chat, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from chat.tasks import attachments_prune

    client = Client()
    sent = chat.customer_upload(client, "sent.png", png()).json()
    chat.customer_send(client, body="x", attachment_ids=[sent["id"]])
    unsent = chat.customer_upload(client, "left.png", png()).json()
    fresh = chat.customer_upload(client, "fresh.png", png()).json()
    with schema_context(chat.brand.schema_name):
        Attachment.objects.filter(id__in=[sent["id"], unsent["id"]]).update(created_at=timezone.now() - timedelta(hours=25))
        paths = Attachment.objects.get(pk=unsent["id"]).storage_path, Attachment.objects.get(pk=unsent["id"]).thumbnail_path
    with django_capture_on_commit_callbacks(execute=True):
        assert attachments_prune() == 1
    with schema_context(chat.brand.schema_name):
        assert set(Attachment.objects.values_list("id", flat=True)) == {sent["id"], fresh["id"]}
    assert not any(storages["default"].exists(path) for path in paths)


def test_account_managers_set_a_brands_attachment_rules_in_the_admin(alpha):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/tenants/brand/{alpha.pk}/change/", **PLATFORM)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="attachment_max_bytes"' in html and 'type="checkbox" name="attachment_types" value="application/pdf"' in html
    assert "image/svg+xml" not in html  # not a choice at all


def test_each_image_type_is_re_encoded_with_a_thumbnail(chat):
    import io

    from PIL import Image

    frames = [Image.new("RGB", (30, 30), color) for color in ("red", "green")]
    animated = io.BytesIO()
    frames[0].save(animated, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    webp = image_with_gps(fmt="WEBP", size=(500, 100))
    located_png = image_with_gps(fmt="PNG")
    assert GPS_IFD in exif_of(located_png)[0]
    cases = (("anim.gif", animated.getvalue(), "image/gif"), ("wide.webp", webp, "image/webp"), ("plain", png(), "image/png"), ("map.png", located_png, "image/png"))
    for name, data, content_type in cases:
        uploaded = chat.customer_upload(Client(), name, data)
        assert uploaded.status_code == 201, uploaded.content
        attachment = uploaded.json()
        assert attachment["content_type"] == content_type and attachment["thumbnail_url"]
        stored = b"".join(Client().get(attachment["download_url"], **ALPHA).streaming_content)
        thumbnail = b"".join(Client().get(attachment["thumbnail_url"], **ALPHA).streaming_content)
        assert GPS_IFD not in exif_of(stored)[0]
        assert max(exif_of(thumbnail)[1]) <= 320
        if name == "anim.gif":
            assert Image.open(io.BytesIO(stored)).n_frames == 2  # the animation survives
        if name == "plain":
            assert attachment["name"] == "plain.png"  # a name that claimed nothing says what it is


def test_an_image_too_large_to_decode_safely_is_refused(chat, settings):
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 100
    refused = chat.customer_upload(Client(), "big.png", png(size=(40, 20)))
    assert refused.status_code == 413 and refused.json()["code"] == "image_too_large"


def test_the_brand_api_lists_sent_files_and_serves_them_to_its_own_key_only(chat, beta):
    from tests.api.conftest import BrandAPI, issue

    client = Client()
    uploaded = chat.customer_upload(client, "parcel.png", png()).json()
    unsent = chat.customer_upload(client, "later.png", png(color="green")).json()
    assert chat.customer_send(client, client_msg_id="c-file", body="Look", attachment_ids=[uploaded["id"]]).status_code == 201

    api = BrandAPI(slug="alpha", key=issue("alpha", access="read"))
    messages = api.get(f"conversations/{chat.conversation.id}/messages").json()["messages"]
    (item,) = next(m for m in messages if m["client_msg_id"] == "c-file")["attachments"]
    assert item["name"] == "parcel.png" and item["download_url"] == f"/api/v1/conversations/{chat.conversation.id}/attachments/{uploaded['id']}"
    detail = api.get(f"conversations/{chat.conversation.id}").json()
    assert [a["id"] for m in detail["messages"] for a in m["attachments"]] == [uploaded["id"]]

    downloaded = api.client.get(item["download_url"], **api.headers)
    assert downloaded.status_code == 200 and downloaded["X-Content-Type-Options"] == "nosniff"
    assert downloaded["Content-Disposition"].startswith("attachment;")
    # A file still in the customer's tray, another conversation's path, no key, another
    # brand's key on its own host: none of them get a file.
    assert api.get(f"conversations/{chat.conversation.id}/attachments/{unsent['id']}").status_code == 404
    other = Chat(agent=chat.agent)
    assert api.get(f"conversations/{other.conversation.id}/attachments/{uploaded['id']}").status_code == 404
    assert BrandAPI(slug="alpha", key=None).get(f"conversations/{chat.conversation.id}/attachments/{uploaded['id']}").status_code == 401
    beta_api = BrandAPI(slug="beta", key=issue("beta", access="read", resources=["messages"]))
    assert beta_api.get(f"conversations/{chat.conversation.id}/attachments/{uploaded['id']}").status_code == 404
    assert BrandAPI(slug="alpha", key=beta_api.headers["HTTP_AUTHORIZATION"].split()[1]).get(f"conversations/{chat.conversation.id}/attachments/{uploaded['id']}").status_code == 404  # as every brand API path answers another brand's key


def test_a_message_created_webhook_names_its_files_by_the_brand_api_path(chat):
    from webhooks.models import WebhookDelivery
    from webhooks.services import message_events_record, webhook_subscription_create

    client = Client()
    uploaded = chat.agent_upload(client, "Rechnung.pdf", pdf()).json()
    with schema_context("brand_alpha"):
        webhook_subscription_create(url="https://hooks.example.com/in", events=["message.created"])
    assert chat.agent_send(client, client_msg_id="a-file", body="Your invoice", attachment_ids=[uploaded["id"]]).status_code == 201
    with schema_context("brand_alpha"):
        message_events_record()
        payloads = [json.loads(d.body)["data"]["message"] for d in WebhookDelivery.objects.order_by("id")]
    (sent,) = [p for p in payloads if p["body"] == "Your invoice"]
    assert sent["attachments"] == [{
        "id": uploaded["id"], "name": "Rechnung.pdf", "content_type": "application/pdf", "size": len(pdf()),
        "download_url": f"/api/v1/conversations/{chat.conversation.id}/attachments/{uploaded['id']}",
    }]
