"""Attachments in Chromium, both ways: the customer attaches an image on the hosted chat
page and the agent's workspace shows its thumbnail; the agent attaches a PDF and the
customer gets a download link; a refused file says why in the page."""

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Attachment
from tenants.models import Brand
from tests.e2e.test_customer_journey import conversation_id, fill_prechat
from tests.e2e.test_workspace import make_agent, panel, sign_in
from tests.files import EXE, GPS_IFD, exif_of, image_with_gps, pdf, png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def loaded(image) -> bool:
    """The <img> was fetched and decoded (a refused or broken one has no natural width).
    Waits for it to finish loading: a thumbnail shown a moment ago may still be on its way."""
    return image.evaluate(
        """img => img.complete ? img.naturalWidth > 0 : new Promise((done) => {
            img.addEventListener("load", () => done(img.naturalWidth > 0), { once: true });
            img.addEventListener("error", () => done(false), { once: true });
        })"""
    )


@pytest.fixture
def chatting(live_server_asgi, new_page, alpha):
    """(customer page, workspace page, the workspace's chat panel, conversation id) of a
    chat the agent accepted."""
    Brand.objects.filter(pk=alpha.pk).update(business_hours={}, max_queue_length=50)
    agent = make_agent("pia", "Pia Agent", alpha)
    workspace = new_page()
    sign_in(workspace, live_server_asgi, agent)

    customer = new_page()
    customer.goto(live_server_asgi.url("alpha", "/chat/"))
    fill_prechat(customer, name="Dana Customer")
    customer.get_by_role("button", name="Chat with an agent").click()
    workspace.get_by_role("button", name="Accept chat with Dana Customer (Alpha Outdoor)").click()
    expect(customer.locator("#chat-title")).to_have_text(re.compile("Chatting with Pia Agent"))
    return customer, workspace, panel(workspace, "Dana Customer"), conversation_id(customer)


def test_files_both_ways_between_the_chat_page_and_the_workspace(live_server_asgi, chatting):
    customer, workspace, chat, chat_id = chatting

    # A refused file: the tray says why, in a sentence, and nothing is sent.
    customer.locator("#composer-file").set_input_files({"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": EXE})
    expect(customer.locator(".attachment-tray__item--failed")).to_contain_text("This kind of file cannot be attached. You can send: PNG, JPEG, GIF, WebP, PDF, TXT.")
    customer.get_by_role("button", name="Remove setup.exe").click()
    expect(customer.locator(".attachment-tray")).to_be_hidden()

    # Customer to agent: a photo with a location in it, and a name that is markup.
    name = "<img src=x onerror=alert(1)>.jpg"
    customer.locator("#composer-file").set_input_files({"name": name, "mimeType": "image/jpeg", "buffer": image_with_gps(size=(80, 40))})
    expect(customer.locator(".attachment-tray__status")).to_have_text("Ready to send")
    customer.get_by_label("Message", exact=True).fill("The box arrived like this")
    customer.get_by_label("Message", exact=True).press("Enter")

    sent = customer.locator("#messages .message.customer .attachment__thumb")
    expect(sent).to_be_visible()
    assert loaded(sent)
    received = chat.locator(".message--customer .attachment__thumb")
    expect(received).to_be_visible()
    expect(received).to_have_attribute("alt", f"Image: {name}")
    assert loaded(received)
    assert chat.locator(".message--customer img[src='x']").count() == 0  # the name stayed text
    # What the agent's link serves has no location left.
    link = chat.locator(".message--customer .attachment--image a").get_attribute("href")
    downloaded = workspace.request.get(live_server_asgi.url(None, link))
    assert downloaded.ok and downloaded.headers["content-disposition"].startswith("attachment;")
    assert GPS_IFD not in exif_of(downloaded.body())[0]

    # Agent to customer: a PDF, shown to the customer as a link with its name and size.
    chat.locator("input[type=file]").set_input_files({"name": "Returns form.pdf", "mimeType": "application/pdf", "buffer": pdf()})
    expect(chat.locator(".attachment-tray__status")).to_have_text("Ready")
    chat.get_by_label("Message", exact=True).fill("Please fill this in")
    chat.get_by_label("Message", exact=True).press("Enter")
    expect(chat.locator(".message--agent .attachment--file")).to_contain_text("Returns form.pdf")

    download_link = customer.locator("#messages .message.agent .attachment--file a")
    expect(download_link).to_contain_text("Returns form.pdf")
    expect(download_link).to_contain_text(re.compile(r"\(\d+ byte"))
    href = download_link.get_attribute("href")
    assert "?sig=" in href
    with customer.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename == "Returns form.pdf"
    with open(download.value.path(), "rb") as file:
        assert file.read() == pdf()

    with schema_context("brand_alpha"):
        stored = Attachment.objects.filter(conversation_id=chat_id).order_by("uploaded_by")
        assert [(a.uploaded_by, a.message_id is not None) for a in stored] == [("agent", True), ("customer", True)]


def files_transfer(page, *files):
    """A DataTransfer in the page holding files [(name, type, bytes)], as a drag from the
    desktop or a paste of a copied file carries them."""
    return page.evaluate_handle(
        """(files) => { const transfer = new DataTransfer();
            for (const [name, type, bytes] of files) transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
            return transfer; }""",
        [[name, kind, list(data)] for name, kind, data in files],
    )


def test_a_file_dropped_on_the_chat_and_one_pasted_into_the_workspace_are_sent(chatting):
    customer, workspace, chat, chat_id = chatting
    # The customer drags a screenshot from the desktop onto the chat.
    transfer = files_transfer(customer, ("screenshot.png", "image/png", png()))
    customer.locator("#messages").dispatch_event("dragover", {"dataTransfer": transfer})
    customer.locator("#messages").dispatch_event("drop", {"dataTransfer": transfer})
    expect(customer.locator(".attachment-tray__status")).to_have_text("Ready to send")
    customer.get_by_label("Message", exact=True).fill("Here is the error")
    customer.get_by_label("Message", exact=True).press("Enter")
    expect(chat.locator(".message--customer .attachment__thumb")).to_have_attribute("alt", "Image: screenshot.png")
    assert loaded(chat.locator(".message--customer .attachment__thumb"))

    # The agent pastes a copied PDF into the reply box.
    transfer = files_transfer(workspace, ("Invoice 1042.pdf", "application/pdf", pdf()))
    chat.get_by_label("Message", exact=True).evaluate(
        "(box, transfer) => box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))", transfer
    )
    expect(chat.locator(".attachment-tray__status")).to_have_text("Ready")
    chat.get_by_label("Message", exact=True).fill("Your invoice")
    chat.get_by_label("Message", exact=True).press("Enter")
    expect(customer.locator("#messages .message.agent .attachment--file a")).to_contain_text("Invoice 1042.pdf")

    # A drop on a chat that has ended attaches nothing.
    customer.get_by_role("button", name="End chat").click()
    expect(customer.locator("#chat-title")).to_contain_text("ended")
    transfer = files_transfer(customer, ("late.png", "image/png", png()))
    customer.locator("#messages").dispatch_event("drop", {"dataTransfer": transfer})
    expect(customer.locator(".attachment-tray")).to_be_hidden()
    with schema_context("brand_alpha"):
        assert sorted(Attachment.objects.filter(conversation_id=chat_id).values_list("name", flat=True)) == ["Invoice 1042.pdf", "screenshot.png"]
