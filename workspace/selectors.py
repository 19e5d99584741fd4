"""Reads for the agent's interfaces: what the agent API and the workspace pages show.

Runs in public; where a brand's own rows are needed (categories, conversations, offline
messages) it enters that brand's schema for the read.
"""

from datetime import timedelta

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.models import AgentSegment, CannedReply, Contact, ContactConversation, Conversation, CustomField, OfflineMessage, Tag, WrapUp
from chat.search import ConversationFilters, conversations_search, sla_breached_exists
from chat.attachments import frame_with_links
from chat.selectors import customer_history, message_frame, messages_after
from chat.wrapup import tags_active
from helpdesk.models import AgentProfile, Staffing
from helpdesk.selectors import staffings_for_agent, staffings_on_brand
from knowledge.models import Category
from knowledge.selectors import article_payload, articles_by_ids
from routing.models import AgentState, QueueEntry
from routing.services import agent_state_get
from sla.models import SlaClock, SlaEvent, SlaKind
from surveys.models import Survey
from surveys.selectors import survey_for_conversation
from tenants.models import Brand

WAITING_STATES = (QueueEntry.State.WAITING, QueueEntry.State.OFFERED)
# A transcript longer than this shows its first messages only (a 30-minute chat is ~100).
TRANSCRIPT_LIMIT = 2000
# The supervisor sees the longest waits first; past this many the queue length says the rest.
WAITING_LIST_LIMIT = 50


def agent_links(*, brand_slug: str, conversation_id: int):
    """An agent's links to a conversation's files: the agent API, which authorizes the
    session or token on every fetch, so they need no signature and do not expire."""
    base = f"/api/agent/v1/brands/{brand_slug}/conversations/{conversation_id}/attachments"

    def links(item: dict) -> dict:
        return {"download_url": f"{base}/{item['id']}", "thumbnail_url": f"{base}/{item['id']}/thumbnail" if item.get("has_thumbnail") else None}

    return links


def agent_frame(frame: dict, *, brand_slug: str, conversation_id: int) -> dict:
    """A message frame (chat.selectors.message_frame) with the agent's attachment links."""
    return frame_with_links(frame, agent_links(brand_slug=brand_slug, conversation_id=conversation_id))


def _brand_summary(brand: Brand) -> dict:
    return {"brand": brand.slug, "brand_name": brand.name, "brand_color": brand.primary_color}


def agent_payload(*, agent: AgentProfile) -> dict:
    state = agent_state_get(agent=agent)
    return {
        "id": agent.id,
        "name": agent.display_name,
        "username": agent.user.username,
        "capacity": agent.max_concurrent_chats,
        "active_chats": state.active_chats,
        "presence": state.presence,
        "brands": [
            {"slug": s.brand.slug, "name": s.brand.name, "color": s.brand.primary_color, "role": s.role, "categories": s.categories}
            for s in staffings_for_agent(agent=agent)
        ],
    }


def category_names(entries) -> dict[tuple[int, str], str]:
    """(brand id, category slug) -> name, one query per brand in `entries` (categories
    live in each brand's schema)."""
    names: dict[tuple[int, str], str] = {}
    by_brand: dict = {}
    for entry in entries:
        by_brand.setdefault(entry.brand, set()).add(entry.category)
    for brand, slugs in by_brand.items():
        with schema_context(brand.schema_name):
            for slug, name in Category.objects.filter(slug__in=slugs).values_list("slug", "name"):
                names[(brand.id, slug)] = name
    return names


def entry_payload(entry: QueueEntry, *, now) -> dict:
    return {
        **_brand_summary(entry.brand),
        "conversation_id": entry.conversation_id,
        "category": entry.category,
        "customer_name": entry.customer_name,
        "summary": entry.summary,
        "state": entry.state,
        "priority": entry.priority,
        "waited_seconds": int((now - entry.entered_at).total_seconds()),
        "offered_to_me": None,
        "offer_expires_at": entry.offer_expires_at.isoformat() if entry.offer_expires_at else None,
    }


def queue_for_agent(*, agent: AgentProfile, limit: int = 200) -> list[dict]:
    """One queue across every brand the agent is staffed on, in routing order."""
    now = timezone.now()
    brand_ids = [s.brand_id for s in staffings_for_agent(agent=agent)]
    entries = list(
        QueueEntry.objects.filter(brand_id__in=brand_ids, state__in=WAITING_STATES)
        .select_related("brand")
        .order_by("-priority", "entered_at")[:limit]
    )
    names = category_names(entries)
    items = []
    for entry in entries:
        item = entry_payload(entry, now=now)
        item["category_name"] = names.get((entry.brand_id, entry.category), entry.category)
        item["offered_to_me"] = entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == agent.id
        items.append(item)
    return items


def conversations_held(*, agent: AgentProfile) -> list[dict]:
    now = timezone.now()
    entries = QueueEntry.objects.filter(agent=agent, state=QueueEntry.State.ASSIGNED).select_related("brand").order_by("assigned_at")
    return [entry_payload(e, now=now) for e in entries]


def conversation_detail(*, conversation: Conversation, brand: Brand) -> dict:
    """Everything the workspace shows beside a chat. In the brand's schema."""
    return {
        **_brand_summary(brand),
        "id": conversation.id,
        "state": conversation.state,
        "customer": {
            "name": conversation.customer_name,
            "email": conversation.customer_email,
            "customer_id": conversation.customer_external_id,
            "verified": conversation.identity_verified,
        },
        "category": {"slug": conversation.category.slug, "name": conversation.category.name},
        "summary": conversation.summary,
        "product_id": conversation.product_id,
        "custom_fields": conversation.custom_fields,
        "custom_field_labels": dict(CustomField.objects.filter(key__in=list(conversation.custom_fields)).values_list("key", "label")),
        "articles_shown": [article_payload(a, with_body=False) for a in articles_by_ids(conversation.suggested_article_ids)],
        "article_helped": conversation.resolved_article_id is not None,
        "agent": {"id": conversation.agent_id, "name": conversation.agent_name} if conversation.agent_id else None,
        "last_seq": conversation.last_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "created_at": conversation.created_at.isoformat(),
        "history": [
            {"id": c.id, "state": c.state, "summary": c.summary, "category": c.category.name, "created_at": c.created_at.isoformat(), "agent_name": c.agent_name}
            for c in customer_history(conversation=conversation)
        ],
    }


def _team(staffings: list[Staffing]) -> list[dict]:
    states = {s.agent_id: s for s in AgentState.objects.filter(agent_id__in=[t.agent_id for t in staffings])}
    return [
        {
            "id": t.agent_id, "name": t.agent.display_name, "role": t.role, "categories": t.categories,
            "presence": states[t.agent_id].presence if t.agent_id in states else AgentState.Presence.OFFLINE,
            "active_chats": states[t.agent_id].active_chats if t.agent_id in states else 0,
            "capacity": t.agent.max_concurrent_chats,
        }
        for t in staffings
    ]


def brand_agents(*, brand: Brand) -> list[dict]:
    """Colleagues on the brand, for transfer and the supervisor view."""
    return _team(staffings_on_brand(brand=brand))


def canned_replies() -> list[dict]:
    """In the brand's schema."""
    return [{"shortcut": c.shortcut, "title": c.title, "body": c.body} for c in CannedReply.objects.all()]


CSAT_WINDOW = timedelta(hours=24)


def csat_recent(*, brand: Brand, now) -> dict:
    """Survey answers of the last 24 hours on the brand: how many, the average, the share
    of 4s and 5s ("satisfied", the usual CSAT figure). One aggregate query in its schema."""
    with schema_context(brand.schema_name):
        figures = Survey.objects.filter(answered_at__gte=now - CSAT_WINDOW, rating__isnull=False).aggregate(
            answered=Count("id"), average=Avg("rating"), satisfied=Count("id", filter=Q(rating__gte=4)),
        )
    answered = figures["answered"]
    return {
        "window_hours": int(CSAT_WINDOW.total_seconds() // 3600), "answered": answered,
        "average": round(figures["average"], 2) if answered else None,
        "satisfied_percent": round(100 * figures["satisfied"] / answered) if answered else None,
    }


SLA_WINDOW = timedelta(hours=24)


def sla_recent(*, brand: Brand, now) -> dict:
    """The brand's service levels of the last 24 hours: clocks that ran out (a due time in
    the window, then stopped or breached: the same count as chat.reports, so the two
    agree), how many of them breached, the share met, and the open clocks past their
    warning now (stopped and breached both empty: nobody has kept or broken the promise
    yet). One aggregate query in its schema; the two filters hit the due_at and warn_at
    indexes."""
    ran_out = Q(due_at__gte=now - SLA_WINDOW, due_at__lt=now) & (Q(stopped_at__isnull=False) | Q(breached_at__isnull=False))
    at_risk = Q(stopped_at__isnull=True, breached_at__isnull=True, warn_at__lte=now)
    with schema_context(brand.schema_name):
        figures = SlaClock.objects.filter(ran_out | at_risk).aggregate(
            ran_out=Count("id", filter=ran_out),
            breached=Count("id", filter=ran_out & Q(breached_at__isnull=False)),
            at_risk=Count("id", filter=at_risk),
        )
    ran, breached = figures["ran_out"], figures["breached"]
    return {
        "window_hours": int(SLA_WINDOW.total_seconds() // 3600), "ran_out": ran, "breached": breached,
        "met_percent": round(100 * (ran - breached) / ran) if ran else None,
        "at_risk": figures["at_risk"],
    }


def sla_states_of_waiting(*, brand: Brand, conversation_ids: list[int], now) -> dict[int, str]:
    """Per waiting chat, its queue-wait promise: "breached", "at_risk" (past its warning),
    "ok" (a clock running), absent when the brand sets no target. In the brand's schema."""
    if not conversation_ids:
        return {}
    states: dict[int, str] = {}
    with schema_context(brand.schema_name):
        clocks = SlaClock.objects.filter(conversation_id__in=conversation_ids, kind=SlaKind.QUEUE_WAIT).values_list("conversation_id", "breached_at", "stopped_at", "warn_at")
        for conversation_id, breached_at, stopped_at, warn_at in clocks:
            if breached_at is not None:
                state = "breached"
            elif stopped_at is None and warn_at <= now:
                state = "at_risk"
            elif stopped_at is None:
                state = "ok"
            else:
                continue
            # The worst of a chat's clocks (it can queue twice after a transfer).
            order = {"ok": 0, "at_risk": 1, "breached": 2}
            if order[state] >= order.get(states.get(conversation_id, "ok"), 0):
                states[conversation_id] = state
    return states


def supervisor_overview(*, agent: AgentProfile) -> list[dict]:
    """Per brand the agent supervises: queue length, oldest wait, agents' state and load,
    chats in progress, CSAT and SLA figures of the last day."""
    now = timezone.now()
    brands = []
    for staffing in staffings_for_agent(agent=agent, role=Staffing.Role.SUPERVISOR):
        brand = staffing.brand
        waiting = list(QueueEntry.objects.filter(brand=brand, state__in=WAITING_STATES).order_by("entered_at"))
        active = list(QueueEntry.objects.filter(brand=brand, state=QueueEntry.State.ASSIGNED).select_related("agent").order_by("assigned_at"))
        sla_states = sla_states_of_waiting(brand=brand, conversation_ids=[e.conversation_id for e in waiting[:WAITING_LIST_LIMIT]], now=now)
        brands.append({
            "brand": brand.slug,
            "brand_name": brand.name,
            "csat": csat_recent(brand=brand, now=now),
            "sla": sla_recent(brand=brand, now=now),
            "queue_length": len(waiting),
            "oldest_wait_seconds": int((now - waiting[0].entered_at).total_seconds()) if waiting else 0,
            "waiting": [
                {
                    "conversation_id": e.conversation_id, "customer_name": e.customer_name, "summary": e.summary, "category": e.category,
                    "state": e.state, "priority": e.priority, "waited_seconds": int((now - e.entered_at).total_seconds()),
                    "sla": sla_states.get(e.conversation_id, ""),
                }
                for e in waiting[:WAITING_LIST_LIMIT]
            ],
            "agents": _team(staffings_on_brand(brand=brand)),
            "chats": [
                {
                    "conversation_id": e.conversation_id, "agent_id": e.agent_id, "agent_name": e.agent.display_name if e.agent else "",
                    "customer_name": e.customer_name, "summary": e.summary, "category": e.category,
                    "since_seconds": int((now - e.assigned_at).total_seconds()) if e.assigned_at else 0,
                }
                for e in active
            ],
        })
    return brands


def offline_message_payload(message: OfflineMessage, *, brand: Brand) -> dict:
    return {
        **_brand_summary(brand), "id": message.id,
        "customer": {"name": message.customer_name, "email": message.customer_email, "customer_id": message.customer_external_id},
        "category": message.category.name, "summary": message.summary, "product_id": message.product_id,
        "custom_fields": message.custom_fields, "reason": message.reason, "created_at": message.created_at.isoformat(),
    }


def offline_messages_for_agent(*, agent: AgentProfile, per_brand: int = 100) -> list[dict]:
    """Unanswered offline messages across every brand the agent serves, oldest first."""
    items = []
    for staffing in staffings_for_agent(agent=agent):
        with schema_context(staffing.brand.schema_name):
            for message in OfflineMessage.objects.filter(handled_at__isnull=True).select_related("category").order_by("created_at")[:per_brand]:
                items.append(offline_message_payload(message, brand=staffing.brand))
    items.sort(key=lambda item: item["created_at"])
    return items


def workspace_config(*, agent: AgentProfile) -> dict:
    """What the workspace page starts with: the agent, their brands and each brand's
    categories (for transfer to a category, which lives in the brand's schema)."""
    staffings = staffings_for_agent(agent=agent)
    categories = {}
    for staffing in staffings:
        with schema_context(staffing.brand.schema_name):
            categories[staffing.brand.slug] = [{"slug": c.slug, "name": c.name} for c in Category.objects.filter(is_active=True).order_by("position", "name")]
    return {
        "agent": {"id": agent.id, "name": agent.display_name},
        "brands": [{"slug": s.brand.slug, "name": s.brand.name, "color": s.brand.primary_color, "role": s.role} for s in staffings],
        "categories": categories,
        "is_supervisor": any(s.is_supervisor for s in staffings),
    }


# --- The inbox and transcripts ------------------------------------------------------------

INBOX_PAGE_SIZE = 25
# Pages merge every brand's newest rows, so page p reads p * size + 1 rows per brand; past
# this page the filters are the better tool (and the cost stays bounded).
INBOX_MAX_PAGE = 40


class InboxScope:
    MINE = "mine"
    BRAND = "brand"  # for supervisors: everyone's chats on the brands they supervise


def _conversation_wrap_up(conversation: Conversation) -> dict | None:
    try:
        wrap_up = conversation.wrap_up
    except WrapUp.DoesNotExist:
        return None
    return {
        "tags": [{"slug": t.slug, "name": t.name} for t in wrap_up.tags.all()],
        "disposition": wrap_up.disposition,
        "disposition_name": wrap_up.get_disposition_display() if wrap_up.disposition else "",
        "wrapped_at": wrap_up.wrapped_at.isoformat(),
    }


def _sla_breached(conversation: Conversation) -> bool:
    # conversations_search and contact_detail annotate it; a bare row asks its schema.
    annotated = getattr(conversation, "sla_breached", None)
    if annotated is not None:
        return annotated
    return SlaEvent.objects.filter(conversation_id=conversation.id).exists()


def inbox_item(conversation: Conversation, *, brand: Brand) -> dict:
    """In the brand's schema."""
    return {
        **_brand_summary(brand),
        "id": conversation.id,
        "state": conversation.state,
        "customer_name": conversation.customer_name,
        "customer_email": conversation.customer_email,
        "verified": conversation.identity_verified,
        "category": conversation.category.name,
        "summary": conversation.summary,
        "product_id": conversation.product_id,
        "agent_name": conversation.agent_name,
        "created_at": conversation.created_at.isoformat(),
        "ended_at": conversation.ended_at.isoformat() if conversation.ended_at else None,
        "wrap_up": _conversation_wrap_up(conversation),
        "sla_breached": _sla_breached(conversation),
    }


def inbox_for_agent(*, agent: AgentProfile, filters: ConversationFilters, brand_slug: str = "", scope: str = InboxScope.MINE, page: int = 1) -> dict:
    """Conversations across the agent's brands, newest first: their own, or with
    scope=brand everyone's on the brands they supervise (their own on the others). Only
    brands the agent is staffed on are ever read (helpdesk.selectors.staffings_for_agent)."""
    page = max(1, min(page, INBOX_MAX_PAGE))
    wanted = page * INBOX_PAGE_SIZE + 1
    rows = []
    for staffing in staffings_for_agent(agent=agent):
        if brand_slug and staffing.brand.slug != brand_slug:
            continue
        everyone = scope == InboxScope.BRAND and staffing.is_supervisor
        with schema_context(staffing.brand.schema_name):
            found = conversations_search(filters=filters, mine_agent_id=None if everyone else agent.id)[:wanted]
            rows.extend((c.created_at, c.id, inbox_item(c, brand=staffing.brand)) for c in found)
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    start = (page - 1) * INBOX_PAGE_SIZE
    return {
        "conversations": [row[2] for row in rows[start:start + INBOX_PAGE_SIZE]],
        "page": page,
        "has_next": len(rows) > start + INBOX_PAGE_SIZE and page < INBOX_MAX_PAGE,
    }


def _seconds_between(start, end) -> int | None:
    return int((end - start).total_seconds()) if start and end else None


def conversation_timings(conversation: Conversation) -> dict:
    iso = lambda value: value.isoformat() if value else None  # noqa: E731
    return {
        "created_at": iso(conversation.created_at), "queued_at": iso(conversation.queued_at), "assigned_at": iso(conversation.assigned_at),
        "first_agent_reply_at": iso(conversation.first_agent_reply_at), "ended_at": iso(conversation.ended_at),
        "ended_by": conversation.ended_by,
        "wait_seconds": _seconds_between(conversation.queued_at, conversation.assigned_at),
        "quoted_wait_seconds": conversation.quoted_wait_seconds,
        "first_reply_seconds": _seconds_between(conversation.assigned_at, conversation.first_agent_reply_at),
        "duration_seconds": _seconds_between(conversation.created_at, conversation.ended_at),
    }


def conversation_transcript(*, conversation: Conversation, brand: Brand) -> dict:
    """A past (or live) conversation as the inbox shows it, read-only: the detail beside a
    chat, every message and event line in seq order, the timings, who held it, the survey
    answer and the wrap-up. In the brand's schema."""
    survey = survey_for_conversation(conversation_id=conversation.id)
    messages = messages_after(conversation=conversation, after_seq=0, include_internal=True, limit=TRANSCRIPT_LIMIT)
    return {
        **conversation_detail(conversation=conversation, brand=brand),
        "messages": [agent_frame(message_frame(m), brand_slug=brand.slug, conversation_id=conversation.id) for m in messages],
        "timings": conversation_timings(conversation),
        "segments": [
            {"agent_name": s.agent_name, "started_at": s.started_at.isoformat(), "ended_at": s.ended_at.isoformat() if s.ended_at else None, "end_reason": s.end_reason}
            for s in AgentSegment.objects.filter(conversation=conversation).order_by("started_at")
        ],
        "survey": None if survey is None else {
            "rating": survey.rating, "comment": survey.comment, "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
            "answered_via": survey.answered_via,
        },
        "wrap_up": _conversation_wrap_up(conversation),
        "contact": contact_for_conversation(conversation),
    }


def tags_payload() -> dict:
    """In the brand's schema: the tags and dispositions a wrap-up offers."""
    return {
        "tags": [{"slug": t.slug, "name": t.name} for t in tags_active()],
        "dispositions": [{"value": value, "name": name} for value, name in WrapUp.Disposition.choices],
    }


def inbox_config(*, agent: AgentProfile) -> dict:
    """What the inbox page's filters offer: the agent's brands with their categories and
    tags (each from the brand's schema), the colleagues of the brands they supervise, the
    states and dispositions."""
    config = workspace_config(agent=agent)
    tags, agents = {}, {}
    for staffing in staffings_for_agent(agent=agent):
        with schema_context(staffing.brand.schema_name):
            tags[staffing.brand.slug] = [{"slug": t.slug, "name": t.name} for t in Tag.objects.order_by("name")]
        if staffing.is_supervisor:
            for member in brand_agents(brand=staffing.brand):
                agents[member["id"]] = member["name"]
    return {
        **config,
        "tags": tags,
        "agents": [{"id": agent_id, "name": name} for agent_id, name in sorted(agents.items(), key=lambda item: item[1])],
        "states": [{"value": value, "name": name} for value, name in Conversation.State.choices],
        "dispositions": [{"value": value, "name": name} for value, name in WrapUp.Disposition.choices],
    }


# --- Contacts (in the brand's schema) ---------------------------------------------------

CONTACTS_LIMIT = 50
CONTACT_CONVERSATIONS_LIMIT = 100


class ContactNotFound(Exception):
    detail = "No such contact."


def contact_payload(contact: Contact) -> dict:
    return {
        "id": contact.id, "name": contact.name, "email": contact.email, "customer_id": contact.external_id,
        "verified": contact.identity_verified, "first_seen_at": contact.first_seen_at.isoformat(), "last_seen_at": contact.last_seen_at.isoformat(),
    }


def contacts_search(*, text: str = "") -> list[dict]:
    contacts = Contact.objects.annotate(conversation_count=Count("links"))
    text = text.strip()
    if text:
        contacts = contacts.filter(Q(name__icontains=text) | Q(email__iexact=text) | Q(external_id__iexact=text))
    return [{**contact_payload(c), "conversation_count": c.conversation_count} for c in contacts.order_by("-last_seen_at")[:CONTACTS_LIMIT]]


def contact_detail(*, contact_id, brand: Brand) -> dict:
    try:
        contact = Contact.objects.get(pk=int(contact_id))
    except (Contact.DoesNotExist, TypeError, ValueError):
        raise ContactNotFound from None
    conversations = (
        Conversation.objects.filter(contact_link__contact=contact).select_related("category").prefetch_related("wrap_up__tags")
        .annotate(sla_breached=sla_breached_exists())
        .order_by("-created_at")[:CONTACT_CONVERSATIONS_LIMIT]
    )
    return {**contact_payload(contact), "conversations": [inbox_item(c, brand=brand) for c in conversations]}


def contact_for_conversation(conversation: Conversation) -> dict | None:
    link = ContactConversation.objects.filter(conversation=conversation).select_related("contact").first()
    if link is None:
        return None  # a conversation from before contacts
    count = ContactConversation.objects.filter(contact_id=link.contact_id).count()
    return {**contact_payload(link.contact), "conversation_count": count}
