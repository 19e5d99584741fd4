"""Hostile text stays text, and long lines wrap, everywhere customers' words are shown.

The admin part walks every change list of both admin sites with NUL, lone surrogates and
malformed values in every query parameter the change list reads: never a 5xx.

The browser part puts tests/reliability/hostile_strings.py into every field a customer
(and an agent) types, through the real pages and APIs of the live server, and looks at
every view in Chromium: no dialog opened and no payload's marker was set (nothing ran), no
payload became an element or an attribute (the CSP would hide an escaping bug, so the
markup itself is checked), the text is there literally, and a 4,000-character word does
not make the page wider than the window."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse, set_urlconf
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.customer_emails import survey_emails_queue
from chat.models import Contact, CustomField
from chat.offline import offline_message_create
from helpdesk.models import Staffing
from surveys.models import Survey
from tenants.admin_site import brand_admin
from tests.e2e.test_customer_journey import Agent, conversation_id
from tests.e2e.test_workspace import Customer, sign_in
from tests.factories import PASSWORD, AgentFactory, StaffingFactory, UserFactory
from tests.reliability.hostile_strings import AGENT_NAME, CUSTOMER_ID, EMAIL, HOSTILE_STRINGS, LONG_MARKER, LONG_WORD, NAME, PRODUCT_ID, joined, normalized

# NUL alone, inside text and after a number; a lone surrogate in UTF-8 (Django reads it as U+FFFD).
NUL_VALUES = ["%00", "a%00b", "1%00", "%ED%A0%80"]


def admin_changelist_params(model_admin, request):
    """Every query parameter a change list reads: search, ordering, page, the error flag,
    popups, each filter's own parameters, the date hierarchy's, and a lookup per field."""
    params = {"q", "o", "p", "e", "_to_field", "_popup", "_changelist_filters", "all"}
    changelist = model_admin.get_changelist_instance(request)
    for spec in changelist.filter_specs:
        params.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        params.update(f"{field}__{part}" for part in ("year", "month", "day", "gte", "lt"))
    for field in model_admin.model._meta.concrete_fields:
        params.update({field.name, f"{field.name}__exact", f"{field.name}__gte", f"{field.name}__isnull"})
    return sorted(params)


def changelists(site, *, urlconf, host, user, brand):
    """(url, the parameters it reads) for every ModelAdmin the site registers."""
    factory = RequestFactory()
    set_urlconf(urlconf)
    try:
        with schema_context(brand.schema_name if brand else "public"):
            for model, model_admin in site._registry.items():
                url = reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
                request = factory.get(url, HTTP_HOST=host)
                request.user, request.brand = user, brand
                yield url, admin_changelist_params(model_admin, request)
    finally:
        set_urlconf(None)


# Transactional: a database error in one request must not abort the next one's transaction.
@pytest.mark.django_db(transaction=True)
def test_every_admin_change_list_answers_nul_and_broken_unicode_without_a_5xx(alpha):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    failures, requests = [], 0

    def get(client, url):
        nonlocal requests
        requests += 1
        response = client.get(url)
        if response.status_code >= 500:
            failures.append((client.defaults["HTTP_HOST"], url, response.status_code))

    for site, urlconf, host, brand in ((admin.site, "config.urls_public", "localhost", None), (brand_admin, "config.urls_tenant", "alpha.localhost", alpha)):
        client = Client(HTTP_HOST=host, raise_request_exception=False)
        client.force_login(superuser)
        walked = list(changelists(site, urlconf=urlconf, host=host, user=superuser, brand=brand))
        assert len(walked) >= 5, site
        for url, params in walked:
            for param in params:
                for value in NUL_VALUES:
                    get(client, f"{url}?{param}={value}")
            get(client, f"{url}?q=%00&o=%00&p=%00&e=1")
            # The object's own pages, with a NUL or a surrogate for its id.
            for value in ("%00", "1%00", "%ED%A0%80"):
                for suffix in ("change/", "delete/", "history/"):
                    get(client, f"{url}{value}/{suffix}")
    assert requests > 500
    assert failures == [], f"{len(failures)} of {requests} requests answered 5xx:\n" + "\n".join(map(str, failures[:80]))


# ---------------------------------------------------------------------------------------
# In Chromium


# Recorded from before any page script runs: a script the CSP refused means a payload got
# as far as becoming markup, which the element check below also looks for.
WITNESS_INIT = """
window.__cspRefused = [];
document.addEventListener("securitypolicyviolation", (event) => {
  if (event.effectiveDirective.startsWith("script-src")) window.__cspRefused.push(`${event.effectiveDirective} ${event.blockedURI} ${event.sample}`);
});
"""

# What a view shows and does, in one look: the marker, injected markup, the visible text
# (text nodes outside script/style, and form fields' values), and how wide the page and
# the long word's holders are.
INSPECT = """
(longMarker) => {
  const injected = [];
  for (const node of document.querySelectorAll("*")) {
    for (const attribute of node.attributes) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.startsWith("on")) injected.push(`${node.tagName} ${attribute.name}=${value.slice(0, 60)}`);
      else if (["src", "srcdoc", "data", "formaction", "action", "xlink:href"].includes(attribute.name) && value.includes("__pwned")) injected.push(`${node.tagName} ${attribute.name}=${value.slice(0, 60)}`);
      else if (attribute.name === "href" && value.startsWith("javascript:")) injected.push(`${node.tagName} href=${value.slice(0, 60)}`);
    }
    const tag = node.tagName.toLowerCase();
    // These pages have no iframe of their own, and no image called "x".
    if (tag === "iframe" || (tag === "img" && node.getAttribute("src") === "x")) injected.push(`${tag} element`);
    // A payload inside data (json_script's type="application/json", escaped) is text.
    const runs = tag === "style" || (tag === "script" && ["", "module", "text/javascript"].includes(node.type));
    if (runs && node.textContent.includes("__pwned")) injected.push(`${tag} element with a payload`);
  }
  const texts = [];
  const holders = [];
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const parent = text.parentElement;
    if (!parent || ["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"].includes(parent.tagName)) continue;
    texts.push(text.data);
    if (text.data.includes(longMarker)) {
      // The text's own extent: a block's box keeps its width while its text overflows it.
      const range = document.createRange();
      range.selectNodeContents(text);
      const box = range.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;  // not shown (display: none)
      let scroller = null;
      for (let up = parent; up && up !== document.body && up !== document.documentElement; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (up.scrollWidth > up.clientWidth + 2 && ["auto", "scroll", "hidden"].includes(style.overflowX) && up.clientWidth > 2) { scroller = `${up.tagName}.${up.className}`; break; }
      }
      holders.push({ where: `${parent.tagName}.${parent.className}`, right: Math.round(box.right + window.scrollX), scroller });
    }
  }
  for (const field of document.querySelectorAll("input, textarea")) {
    texts.push(field.value);
    if (field.value.includes(longMarker) && field.tagName === "TEXTAREA") holders.push({ where: "TEXTAREA", right: Math.round(field.getBoundingClientRect().right + window.scrollX), scroller: null });
  }
  return {
    pwned: window.__pwned !== undefined || (window.parent !== window && window.parent.__pwned !== undefined),
    cspRefused: window.__cspRefused || [],
    injected,
    text: texts.join("\\n"),
    scrollWidth: (document.scrollingElement || document.documentElement).scrollWidth,
    innerWidth: window.innerWidth,
    holders,
  };
}
"""
TOLERANCE_PX = 2


class Witness:
    """Watches pages for dialogs and looks at views; every problem seen is kept, so one
    run reports them all."""

    def __init__(self):
        self.problems = []
        self.dialogs = []
        self.views = 0

    def watch(self, page):
        page.add_init_script(WITNESS_INIT)
        page.on("dialog", lambda dialog: (self.dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
        return page

    def look(self, page, view, *, shows=(), long_line=False):
        """`shows`: texts the view must show literally; `long_line`: the 4,000-character word
        is on this view (and must wrap)."""
        self.views += 1
        seen = page.evaluate(INSPECT, LONG_MARKER)

        def problem(what):
            self.problems.append(f"{view}: {what}")

        if seen["pwned"]:
            problem("a payload ran (window.__pwned is set)")
        if seen["cspRefused"]:
            problem(f"the CSP refused injected script: {seen['cspRefused'][:3]}")
        if seen["injected"]:
            problem(f"payload markup became elements or attributes: {seen['injected'][:5]}")
        text = normalized(seen["text"])
        for expected in shows:
            if normalized(expected) not in text:
                problem(f"does not show {expected[:70]!r} literally")
        if seen["scrollWidth"] > seen["innerWidth"] + TOLERANCE_PX:
            problem(f"the page is {seen['scrollWidth']} px wide in a {seen['innerWidth']} px window")
        if long_line:
            if not seen["holders"]:
                problem("the 4,000-character word is not on the page")
            for holder in seen["holders"]:
                if holder["right"] > seen["innerWidth"] + TOLERANCE_PX:
                    problem(f"the long word in {holder['where']} reaches {holder['right']} px in a {seen['innerWidth']} px window")
                if holder["scroller"]:
                    problem(f"the long word in {holder['where']} scrolls sideways inside {holder['scroller']}")
        return seen


# The question's 2,000 characters: one long word first (where a queue item shows its
# beginning), then payloads.
SUMMARY = LONG_WORD[:1000] + "\n" + joined(950)
CUSTOM_VALUE = joined(480)  # a custom field's 500
COMMENT = joined(950) + "\n" + LONG_WORD[:1000]  # a CSAT comment's 2,000
PAYLOADS = list(HOSTILE_STRINGS.values())
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def prechat_fill(page):
    expect(page.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()
    page.get_by_label("Name", exact=False).first.fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Customer ID").fill(CUSTOMER_ID)
    page.get_by_label("Topic").select_option("shipping")
    page.get_by_label("What do you need help with?").fill(SUMMARY)
    page.get_by_label("Product ID").fill(PRODUCT_ID)
    page.get_by_label("Order reference").fill(CUSTOM_VALUE)
    page.get_by_role("button", name="Start chat").click()


def email_shown(page, witness, view, email, *, shows, long_line):
    """An email as a mail client shows it: ours are text/plain only (no HTML part to
    escape), so Chromium gets the body as text/plain, and the headers carry no line the
    customer's text could have added."""
    assert email.content_subtype == "plain" and not getattr(email, "alternatives", []), view
    headers = email.message()
    if "Bcc" in headers or "injected" in str(headers.get("Subject", "")) or any("\n" in str(v) or "\r" in str(v) for v in headers.values()):
        witness.problems.append(f"{view}: the headers took customer text: {headers.items()}")
    url = f"http://mail.invalid/{view.replace(' ', '-')}"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/plain; charset=utf-8", body=email.body))
    page.goto(url)
    witness.look(page, view, shows=shows, long_line=long_line)


def survey_id_of(conversation_id):
    with schema_context("brand_alpha"):
        return Survey.objects.get(conversation_id=conversation_id).id


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_text_is_inert_literal_and_wraps_in_every_view(live_server_asgi, new_page, alpha, mailoutbox):
    live = live_server_asgi
    with schema_context("brand_alpha"):
        CustomField.objects.create(key="order_ref", label="Order reference", field_type="text")
    agent = AgentFactory(display_name=AGENT_NAME, user__username="hostile_agent", max_concurrent_chats=3)
    StaffingFactory(agent=agent, brand=alpha, role=Staffing.Role.AGENT)
    boss = AgentFactory(display_name="Sam Supervisor", user__username="hostile_boss")
    StaffingFactory(agent=boss, brand=alpha, role=Staffing.Role.SUPERVISOR)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    witness = Witness()

    # The agent's workspace waits, offline, so the chat shows in the queue first.
    workspace = witness.watch(new_page(**DESKTOP))
    sign_in(workspace, live, agent, online=False)
    supervisor = witness.watch(new_page(**DESKTOP))
    sign_in(supervisor, live, boss, online=False)

    customer = witness.watch(new_page(**DESKTOP))
    customer.goto(live.url("alpha", "/chat/"))
    witness.look(customer, "chat page: pre-chat form")
    prechat_fill(customer)
    customer.get_by_role("button", name="Chat with an agent").click()
    expect(customer.get_by_role("heading", name="Waiting for an agent")).to_be_visible()
    chat_id = conversation_id(customer)
    witness.look(customer, "chat page: waiting")

    item = workspace.locator("#queue .queue-item")
    expect(item).to_have_count(1)
    witness.look(workspace, "workspace: queue item", shows=[NAME], long_line=True)
    supervisor.goto(live.url(None, "/agent/supervisor/"))
    expect(supervisor.locator('section[data-brand="alpha"] .queue-length')).to_have_text("1")
    witness.look(supervisor, "supervisor: waiting", shows=[NAME], long_line=True)

    with workspace.expect_response(re.compile(r"/api/agent/v1/presence$")):
        workspace.get_by_label("Presence").select_option("online")
    workspace.get_by_role("button", name=re.compile(r"^Accept chat with")).click()
    workspace.get_by_role("tab").first.click()
    chat = workspace.get_by_role("tabpanel")
    expect(chat.locator(".details")).to_be_visible()
    expect(customer.locator("#chat-title")).to_contain_text("Chatting with")

    # Both ways, every payload and the long word; and a private note.
    composer = customer.get_by_label("Message", exact=True)
    for body in [*PAYLOADS, LONG_WORD]:
        composer.fill(body)
        composer.press("Enter")
    api = Agent(live, new_page(), agent)
    for number, body in enumerate([*PAYLOADS, LONG_WORD]):
        api.conversation(chat_id, "/messages", {"body": body, "client_msg_id": f"agent-{number}"})
    api.conversation(chat_id, "/messages", {"body": joined(4000), "client_msg_id": "note", "internal": True})
    count = len(PAYLOADS) + 1
    expect(customer.locator("#messages .message.agent")).to_have_count(count)
    expect(customer.locator("#messages .message.customer:not([data-seq='1'])")).to_have_count(count)
    expect(chat.locator(".message--note")).to_have_count(1)
    expect(chat.locator(".message--customer:not([data-seq='1'])")).to_have_count(count)

    witness.look(customer, "chat page: chatting", shows=[AGENT_NAME, *PAYLOADS, SUMMARY], long_line=True)
    witness.look(workspace, "workspace: conversation and customer details", shows=[NAME, EMAIL, CUSTOMER_ID, PRODUCT_ID, CUSTOM_VALUE, SUMMARY, *PAYLOADS], long_line=True)
    supervisor.reload()
    watch = supervisor.get_by_role("button", name=re.compile(r"^Watch chat with"))
    watch.click()
    expect(supervisor.locator("#watch-messages .message--customer, #watch-messages li").first).to_be_visible()
    expect(supervisor.locator("#watch-messages").get_by_text(LONG_MARKER, exact=False).first).to_be_attached()
    witness.look(supervisor, "supervisor: chats in progress and watching", shows=[NAME, AGENT_NAME, *PAYLOADS], long_line=True)

    # The agent ends; the customer answers the survey with a hostile comment and asks for the transcript.
    api.conversation(chat_id, "/end")
    expect(customer.get_by_role("heading", name="The chat has ended")).to_be_visible()
    survey = customer.locator("#survey")
    survey.get_by_label("4", exact=True).check()
    survey.get_by_label("Comment (optional)").fill(COMMENT)
    witness.look(customer, "chat page: ended, survey typed", shows=[*PAYLOADS, COMMENT], long_line=True)
    survey.get_by_role("button", name="Send feedback").click()
    expect(customer.locator("#survey-thanks")).to_be_visible()
    customer.get_by_role("button", name="Email me the transcript").click()
    expect(customer.get_by_text("transcript", exact=False).last).to_be_visible()
    customer.reload()
    expect(customer.get_by_role("heading", name="The chat has ended")).to_be_visible()
    witness.look(customer, "chat page: after the end, reloaded", shows=PAYLOADS, long_line=True)
    customer.set_viewport_size({"width": 390, "height": 800})  # the widget's frame on a phone
    witness.look(customer, "chat page: after the end, on a phone", shows=PAYLOADS, long_line=True)

    # A message left on the offline form, seen in the workspace, answered by email.
    with schema_context("brand_alpha"):
        offline = offline_message_create(
            brand=alpha, reason="no_agents", identity_token=None,
            data={"name": NAME, "email": EMAIL, "customer_id": CUSTOMER_ID, "category": "returns", "summary": SUMMARY, "product_id": PRODUCT_ID, "custom_fields": {"order_ref": CUSTOM_VALUE}},
        )
    workspace.reload()
    expect(workspace.locator("#offline .offline-item")).to_have_count(1)
    witness.look(workspace, "workspace: offline messages", shows=[NAME, EMAIL, SUMMARY], long_line=True)
    api.call("POST", f"/brands/alpha/offline-messages/{offline.id}/reply", {"body": "\n".join(PAYLOADS[:8])})
    workspace.goto(live.url(None, "/agent/inbox/"))
    rows = workspace.locator(".inbox-row")
    expect(rows).to_have_count(1)
    witness.look(workspace, "workspace: inbox", shows=[NAME, AGENT_NAME], long_line=True)
    rows.first.get_by_role("button").click()
    expect(workspace.locator(".message--agent")).to_have_count(count)
    witness.look(workspace, "workspace: inbox transcript", shows=[NAME, EMAIL, SUMMARY, *PAYLOADS], long_line=True)

    # A second chat whose survey goes unanswered: the emailed invitation and its page.
    second = Customer(live, "alpha", name=NAME, email=EMAIL, summary=SUMMARY, customer_id=CUSTOMER_ID, product_id=PRODUCT_ID)
    second.escalate()
    api.conversation(second.id, "/accept")
    api.conversation(second.id, "/end")
    with schema_context("brand_alpha"):
        assert survey_emails_queue(brand=alpha, now=timezone.now() + timedelta(days=2)) == 1

    transcript = next(e for e in mailoutbox if e.subject.startswith("Your chat with"))
    invitation = next(e for e in mailoutbox if e.subject.startswith("How did we do?"))
    reply = next(e for e in mailoutbox if e.subject.startswith("Re: your message"))
    assert len(mailoutbox) == 3, [e.subject for e in mailoutbox]
    mail = witness.watch(new_page(**DESKTOP))
    email_shown(mail, witness, "email: transcript", transcript, shows=[AGENT_NAME, *PAYLOADS], long_line=True)
    email_shown(mail, witness, "email: survey invitation", invitation, shows=[NAME, AGENT_NAME], long_line=False)
    email_shown(mail, witness, "email: offline reply", reply, shows=[NAME, *PAYLOADS[:8], SUMMARY], long_line=True)

    token = re.search(r"/survey/([^/\s]+)/", invitation.body).group(1)
    survey_page = witness.watch(new_page(**DESKTOP))
    survey_page.goto(live.url("alpha", f"/survey/{token}/"))
    expect(survey_page.get_by_role("heading", name="How did we do?")).to_be_visible()
    witness.look(survey_page, "survey page", shows=[AGENT_NAME])
    # Sent without a rating (the browser's check taken off), the page comes back with the comment.
    survey_page.locator("#survey-comment").fill(COMMENT)
    survey_page.evaluate("() => document.querySelectorAll('[required]').forEach((input) => input.removeAttribute('required'))")
    survey_page.get_by_role("button", name="Send feedback").click()
    expect(survey_page.locator("#survey-error")).to_be_visible()
    witness.look(survey_page, "survey page: the comment sent back", shows=[AGENT_NAME, COMMENT], long_line=True)
    survey_page.get_by_label("5").check()
    survey_page.get_by_role("button", name="Send feedback").click()
    expect(survey_page.get_by_role("status")).to_contain_text("Thank you")

    # The support page: its search repeats what was typed.
    support = witness.watch(new_page(**DESKTOP))
    support.goto(live.url("alpha", "/support/"))
    witness.look(support, "support page")
    support.goto(live.url("alpha", "/support/search/") + "?" + urlencode({"q": NAME + " " + LONG_WORD[:150]}))
    witness.look(support, "support page: search", shows=[NAME], long_line=True)

    # Both admins, as a superuser.
    admin_page = witness.watch(new_page(**DESKTOP))
    for host in ("alpha", None):
        admin_page.goto(live.url(host, "/admin/login/"))
        admin_page.get_by_label("Username").fill(root.username)
        admin_page.get_by_label("Password").fill(PASSWORD)
        admin_page.get_by_role("button", name="Log in").click()
        expect(admin_page.locator("#user-tools")).to_be_visible()
    with schema_context("brand_alpha"):
        contact_id = Contact.objects.get().id
    brand_views = [
        ("/admin/chat/conversation/", [NAME, EMAIL], False),
        ("/admin/chat/conversation/?" + urlencode({"q": PAYLOADS[0]}), [PAYLOADS[0]], False),
        (f"/admin/chat/conversation/{chat_id}/change/", [NAME, EMAIL, CUSTOMER_ID, PRODUCT_ID, SUMMARY, AGENT_NAME, *PAYLOADS], True),
        ("/admin/surveys/survey/", [], False),
        (f"/admin/surveys/survey/{survey_id_of(chat_id)}/change/", [COMMENT], True),
        ("/admin/chat/offlinemessage/", [NAME, EMAIL], False),
        (f"/admin/chat/offlinemessage/{offline.id}/change/", [NAME, EMAIL, CUSTOMER_ID, PRODUCT_ID, SUMMARY], True),
        ("/admin/chat/contact/", [NAME], False),
        (f"/admin/chat/contact/{contact_id}/change/", [NAME, EMAIL], False),
    ]
    for path, shows, long_line in brand_views:
        admin_page.goto(live.url("alpha", path))
        expect(admin_page.locator("#content")).to_be_visible()
        witness.look(admin_page, f"brand admin {path[:60]}", shows=shows, long_line=long_line)
    # The platform admin registers no brand-schema model (no conversations); the agent's
    # typed display name is what it shows of the chat's people.
    for path in ("/admin/helpdesk/agentprofile/", f"/admin/helpdesk/agentprofile/{agent.id}/change/", "/admin/helpdesk/staffing/"):
        admin_page.goto(live.url(None, path))
        expect(admin_page.locator("#content")).to_be_visible()
        witness.look(admin_page, f"platform admin {path}", shows=[AGENT_NAME])

    assert witness.dialogs == [], witness.dialogs
    assert witness.views >= 25
    assert witness.problems == [], f"{len(witness.problems)} problems in {witness.views} views:\n" + "\n".join(witness.problems)


@pytest.mark.browser
def test_the_witness_sees_payloads_that_were_parsed_as_markup(new_page):
    """The checks above can fail: the same payloads put in a page as HTML, unescaped and
    with no CSP, run, become elements, and the long word widens the page."""
    witness = Witness()
    page = witness.watch(new_page(**DESKTOP))
    scripted = [payload for name, payload in HOSTILE_STRINGS.items() if name != "style_block"][:12]  # the style would hide it all
    # The long word first: the unclosed comment swallows what follows it.
    page.set_content(f"<main><p>{LONG_WORD}</p>" + "".join(f"<p>{payload}</p>" for payload in scripted) + "</main>")
    page.wait_for_timeout(200)
    witness.look(page, "unescaped", shows=[PAYLOADS[0]], long_line=True)
    found = "\n".join(witness.problems)
    assert witness.dialogs, "the alert() payloads opened no dialog"
    for expected in ("a payload ran", "became elements or attributes", "does not show", "px wide", "reaches"):
        assert expected in found, (expected, found)
