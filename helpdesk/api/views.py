"""The agent API (platform host, /api/agent/v1/). One view per operation; brand-scoped
operations inherit AgentBrandAPIView, which resolves and authorizes the brand."""

from django.contrib.auth import authenticate
from django.db import transaction
from django_tenants.utils import schema_context
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import services as chat
from chat.models import CannedReply, Conversation, CustomField, OfflineMessage
from chat.selectors import conversation_get_for_agent, customer_history, message_frame, messages_after
from helpdesk.models import AgentProfile, AgentToken, Staffing
from knowledge.models import Category
from knowledge.selectors import article_payload, articles_by_ids
from routing import services as routing
from routing.models import AgentState, QueueEntry

from .base import AgentAPIView, AgentBrandAPIView


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200)
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)


class TokenCreateView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(request=TokenInput, responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        profile = AgentProfile.objects.filter(user=user).first() if user else None
        if profile is None:
            return Response({"detail": "Wrong username or password, or not an agent.", "code": "bad_credentials"}, status=400)
        _, raw = AgentToken.issue(user=user, label=data.validated_data.get("label", ""))
        return Response({"token": raw, "agent": {"id": profile.id, "name": profile.display_name}}, status=201)


def agent_payload(agent: AgentProfile) -> dict:
    state = routing.agent_state_get(agent=agent)
    return {
        "id": agent.id,
        "name": agent.display_name,
        "username": agent.user.username,
        "capacity": agent.max_concurrent_chats,
        "active_chats": state.active_chats,
        "presence": state.presence,
        "brands": [
            {"slug": s.brand.slug, "name": s.brand.name, "color": s.brand.primary_color, "role": s.role, "categories": s.categories}
            for s in Staffing.objects.filter(agent=agent, brand__status="active").select_related("brand")
        ],
    }


class MeView(AgentAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(agent_payload(self.agent))


class PresenceInput(serializers.Serializer):
    presence = serializers.ChoiceField(choices=AgentState.Presence.values)


class PresenceView(AgentAPIView):
    @extend_schema(request=PresenceInput, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        data = PresenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        routing.presence_set(agent=self.agent, presence=data.validated_data["presence"])
        return Response(agent_payload(self.agent))


def entry_payload(entry: QueueEntry, *, now) -> dict:
    return {
        "brand": entry.brand.slug,
        "brand_name": entry.brand.name,
        "brand_color": entry.brand.primary_color,
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


class QueueView(AgentAPIView):
    """One queue across every brand the agent is staffed on."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        now = timezone.now()
        brand_ids = Staffing.objects.filter(agent=self.agent).values_list("brand_id", flat=True)
        entries = (
            QueueEntry.objects.filter(brand_id__in=list(brand_ids), brand__status="active", state__in=[QueueEntry.State.WAITING, QueueEntry.State.OFFERED])
            .select_related("brand")
            .order_by("-priority", "entered_at")[:200]
        )
        entries = list(entries)
        names = category_names(entries)
        items = []
        for entry in entries:
            item = entry_payload(entry, now=now)
            item["category_name"] = names.get((entry.brand_id, entry.category), entry.category)
            item["offered_to_me"] = entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == self.agent.id
            items.append(item)
        return Response({"queue": items})


class MyConversationsView(AgentAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        now = timezone.now()
        entries = QueueEntry.objects.filter(agent=self.agent, state=QueueEntry.State.ASSIGNED).select_related("brand").order_by("assigned_at")
        return Response({"conversations": [entry_payload(e, now=now) for e in entries]})


def conversation_detail(conversation: Conversation, *, brand) -> dict:
    return {
        "brand": brand.slug,
        "brand_name": brand.name,
        "brand_color": brand.primary_color,
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
        "created_at": conversation.created_at.isoformat(),
        "history": [
            {"id": c.id, "state": c.state, "summary": c.summary, "category": c.category.name, "created_at": c.created_at.isoformat(), "agent_name": c.agent_name}
            for c in customer_history(conversation=conversation)
        ],
    }


class ConversationDetailView(AgentBrandAPIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        return Response(conversation_detail(conversation, brand=self.brand))


class AcceptView(AgentBrandAPIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        conversation = chat.conversation_accept(agent=self.agent, brand=self.brand, conversation_id=conversation.id)
        return Response(conversation_detail(conversation, brand=self.brand))


class DeclineView(AgentBrandAPIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        chat.conversation_decline(agent=self.agent, brand=self.brand, conversation_id=conversation.id)
        return Response({"detail": "Declined; the chat goes to the next agent."})


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=chat.MAX_BODY, trim_whitespace=False)
    client_msg_id = serializers.CharField(max_length=chat.MAX_CLIENT_MSG_ID, required=False, allow_null=True)
    internal = serializers.BooleanField(default=False)


class MessagesView(AgentBrandAPIView):
    @extend_schema(parameters=[OpenApiParameter("after_seq", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        try:
            after_seq = int(request.query_params.get("after_seq", 0))
        except ValueError:
            return Response({"detail": "after_seq must be a number.", "code": "bad_seq"}, status=400)
        messages = messages_after(conversation=conversation, after_seq=after_seq, include_internal=True)
        return Response({"messages": [message_frame(m) for m in messages], "last_seq": conversation.last_seq})

    @extend_schema(request=MessageInput, responses={201: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        internal = data.validated_data["internal"]
        if not internal and conversation.agent_id != self.agent.id:
            return Response({"detail": "Only the agent in the chat can reply.", "code": "forbidden"}, status=403)
        message, created = chat.message_send(
            conversation_id=conversation.id, sender="agent", body=data.validated_data["body"],
            client_msg_id=data.validated_data.get("client_msg_id"), agent=self.agent, internal=internal,
        )
        return Response(message_frame(message), status=201 if created else 200)


class ReadInput(serializers.Serializer):
    up_to_seq = serializers.IntegerField(min_value=0)


class ReadView(AgentBrandAPIView):
    @extend_schema(request=ReadInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        data = ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        seq = chat.conversation_read(conversation_id=conversation.id, reader="agent", up_to_seq=data.validated_data["up_to_seq"])
        return Response({"agent_read_seq": seq})


class EndView(AgentBrandAPIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        conversation = chat.conversation_end(brand=self.brand, conversation_id=conversation.id, ended_by="agent", agent=self.agent)
        return Response(conversation_detail(conversation, brand=self.brand))


class TransferInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField(required=False, allow_null=True)
    category = serializers.SlugField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=chat.MAX_BODY)


class TransferView(AgentBrandAPIView):
    @extend_schema(request=TransferInput, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        to_agent = None
        if data.validated_data.get("to_agent_id"):
            to_agent = AgentProfile.objects.filter(id=data.validated_data["to_agent_id"], staffings__brand=self.brand).first()
            if to_agent is None:
                return Response({"detail": "That agent is not staffed on this brand.", "code": "not_eligible"}, status=400)
        conversation = chat.conversation_transfer(
            agent=self.agent, brand=self.brand, conversation_id=conversation.id, to_agent=to_agent,
            category=data.validated_data.get("category") or None, note=data.validated_data.get("note", ""),
        )
        return Response(conversation_detail(conversation, brand=self.brand))


class BrandAgentsView(AgentBrandAPIView):
    """Colleagues on this brand, for transfer and the supervisor view."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, brand):
        staffings = Staffing.objects.filter(brand=self.brand).select_related("agent")
        states = {s.agent_id: s for s in AgentState.objects.filter(agent_id__in=[s.agent_id for s in staffings])}
        return Response({"agents": [
            {
                "id": s.agent_id, "name": s.agent.display_name, "role": s.role, "categories": s.categories,
                "presence": states[s.agent_id].presence if s.agent_id in states else "offline",
                "active_chats": states[s.agent_id].active_chats if s.agent_id in states else 0,
                "capacity": s.agent.max_concurrent_chats,
            }
            for s in staffings
        ]})


class CannedRepliesView(AgentBrandAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, brand):
        return Response({"canned_replies": [{"shortcut": c.shortcut, "title": c.title, "body": c.body} for c in CannedReply.objects.all()]})


class SupervisorOverviewView(AgentAPIView):
    """Per brand the agent supervises: queue length, oldest wait, agents' state and load,
    chats in progress."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        now = timezone.now()
        brands = []
        for staffing in Staffing.objects.filter(agent=self.agent, role=Staffing.Role.SUPERVISOR, brand__status="active").select_related("brand"):
            brand = staffing.brand
            waiting = list(QueueEntry.objects.filter(brand=brand, state__in=[QueueEntry.State.WAITING, QueueEntry.State.OFFERED]).order_by("entered_at"))
            active = list(QueueEntry.objects.filter(brand=brand, state=QueueEntry.State.ASSIGNED).select_related("agent").order_by("assigned_at"))
            team = Staffing.objects.filter(brand=brand).select_related("agent")
            states = {s.agent_id: s for s in AgentState.objects.filter(agent_id__in=[t.agent_id for t in team])}
            brands.append({
                "brand": brand.slug,
                "brand_name": brand.name,
                "queue_length": len(waiting),
                "oldest_wait_seconds": int((now - waiting[0].entered_at).total_seconds()) if waiting else 0,
                "agents": [
                    {
                        "id": t.agent_id, "name": t.agent.display_name, "role": t.role,
                        "presence": states[t.agent_id].presence if t.agent_id in states else "offline",
                        "active_chats": states[t.agent_id].active_chats if t.agent_id in states else 0,
                        "capacity": t.agent.max_concurrent_chats,
                    }
                    for t in team
                ],
                "chats": [
                    {"conversation_id": e.conversation_id, "agent_id": e.agent_id, "agent_name": e.agent.display_name if e.agent else "", "customer_name": e.customer_name, "summary": e.summary, "category": e.category, "since_seconds": int((now - e.assigned_at).total_seconds()) if e.assigned_at else 0}
                    for e in active
                ],
            })
        return Response({"brands": brands})


class ReassignInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField(required=False, allow_null=True)


class SupervisorReassignView(AgentBrandAPIView):
    """A supervisor takes over a chat (no to_agent_id) or hands it to another agent."""

    supervisor_only = True

    @extend_schema(request=ReassignInput, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation, _ = conversation_get_for_agent(agent=self.agent, brand=self.brand, conversation_id=conversation_id)
        data = ReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        target_id = data.validated_data.get("to_agent_id") or self.agent.id
        target = AgentProfile.objects.filter(id=target_id, staffings__brand=self.brand).first()
        if target is None:
            return Response({"detail": "That agent is not staffed on this brand.", "code": "not_eligible"}, status=400)
        if conversation.state != Conversation.State.ACTIVE or not conversation.agent_id:
            return Response({"detail": "Only a chat in progress can be taken over.", "code": "bad_state"}, status=409)
        current = AgentProfile.objects.get(id=conversation.agent_id)
        if target.id == current.id:
            return Response({"detail": "That agent already has the chat.", "code": "same_agent"}, status=409)
        if target.id == self.agent.id:
            # Taking over goes online for the supervisor, who may be routed nothing otherwise.
            state = routing.agent_state_get(agent=self.agent)
            if state.presence != AgentState.Presence.ONLINE:
                routing.presence_set(agent=self.agent, presence=AgentState.Presence.ONLINE)
        with transaction.atomic():
            conversation = chat.conversation_transfer(
                agent=current, brand=self.brand, conversation_id=conversation.id, to_agent=target, category=None,
                note=f"{self.agent.display_name} (supervisor) reassigned this chat.", by=self.agent,
            )
        return Response(conversation_detail(conversation, brand=self.brand))


def offline_message_payload(message: OfflineMessage, *, brand) -> dict:
    return {
        "brand": brand.slug, "brand_name": brand.name, "brand_color": brand.primary_color, "id": message.id,
        "customer": {"name": message.customer_name, "email": message.customer_email, "customer_id": message.customer_external_id},
        "category": message.category.name, "summary": message.summary, "product_id": message.product_id,
        "custom_fields": message.custom_fields, "reason": message.reason, "created_at": message.created_at.isoformat(),
    }


class OfflineMessagesView(AgentAPIView):
    """Unanswered offline messages across every brand the agent serves, oldest first."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        items = []
        for staffing in Staffing.objects.filter(agent=self.agent, brand__status="active").select_related("brand"):
            with schema_context(staffing.brand.schema_name):
                for message in OfflineMessage.objects.filter(handled_at__isnull=True).select_related("category").order_by("created_at")[:100]:
                    items.append(offline_message_payload(message, brand=staffing.brand))
        items.sort(key=lambda item: item["created_at"])
        return Response({"offline_messages": items})


class OfflineReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=chat.MAX_BODY)


class OfflineMessageReplyView(AgentBrandAPIView):
    @extend_schema(request=OfflineReplyInput, responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, message_id):
        data = OfflineReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = chat.offline_message_reply(agent=self.agent, brand=self.brand, message_id=message_id, body=data.validated_data["body"])
        return Response({"id": message.id, "detail": f"Reply emailed to {message.customer_email}."})
