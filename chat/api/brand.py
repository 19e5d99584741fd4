"""The brand API's conversations, messages, custom fields and canned replies
(/api/v1/ on a brand host, brand API keys). Runs in the brand's schema, which the host
middleware entered; the key was checked against the host's brand by the base class, so
every query here sees only this brand's rows."""

import django_filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from django.db.models import Exists, OuterRef
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from chat.configuration import (
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
    custom_field_update,
)
from chat.api.attachments import FILE_RESPONSE, FileDownloadMixin
from chat.attachments import attachment_meta, attachment_response
from chat.errors import ChatError
from chat.messages import bot_message_send, message_send, seq_parse
from chat.models import AgentSegment, CannedReply, Conversation, CustomField, Message, WrapUp
from chat.selectors import AttachmentNotFound, attachment_get_for_brand, message_attachments
from chat.transcripts import transcript_text
from helpdesk.selectors import agent_get_on_brand
from sla.models import SlaEvent
from tenants.api.conventions import (
    IDEMPOTENCY_PARAMETER,
    BrandAPIMixin,
    UTCDateTimeFilter,
)
from tenants.models import BrandAPIKey

MESSAGE_PAGE = 500
Resource = BrandAPIKey.Resource


class ChatBrandAPIMixin(BrandAPIMixin):
    domain_errors = (ChatError,)


# --- shapes ------------------------------------------------------------------------


class BrandSegmentOut(serializers.ModelSerializer):
    seconds = serializers.SerializerMethodField()

    class Meta:
        model = AgentSegment
        fields = ["agent_id", "agent_name", "started_at", "ended_at", "end_reason", "seconds"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_seconds(self, segment):
        if segment.ended_at is None:
            return None
        return int((segment.ended_at - segment.started_at).total_seconds())


class BrandAttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The uploaded name, cleaned: render as text.")
    content_type = serializers.CharField(help_text="Sniffed from the content.")
    size = serializers.IntegerField()
    is_image = serializers.BooleanField()
    has_thumbnail = serializers.BooleanField()
    download_url = serializers.CharField(help_text="This API's path for the file (the same key).")


def brand_attachment_out(conversation_id: int, attachment) -> dict:
    return {**attachment_meta(attachment), "download_url": f"/api/v1/conversations/{conversation_id}/attachments/{attachment.id}"}


class BrandMessageOut(serializers.ModelSerializer):
    internal = serializers.BooleanField(source="is_internal")
    author = serializers.CharField(source="author_name")
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "seq", "client_msg_id", "sender", "author", "agent_id", "body", "internal", "sent_at", "attachments"]

    @extend_schema_field(BrandAttachmentOut(many=True))
    def get_attachments(self, message):
        return [brand_attachment_out(message.conversation_id, attachment) for attachment in message_attachments(message)]


class BrandConversationOut(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "state", "customer_name", "customer_email", "customer_external_id", "identity_verified",
            "category", "summary", "product_id", "custom_fields", "agent_id", "agent_name", "last_seq",
            "suggested_article_ids", "resolved_article", "created_at", "queued_at", "quoted_wait_seconds",
            "assigned_at", "first_agent_reply_at", "ended_at", "ended_by",
        ]


class BrandTimingsOut(serializers.Serializer):
    wait_seconds = serializers.IntegerField(allow_null=True, help_text="queued_at to assigned_at.")
    first_response_seconds = serializers.IntegerField(allow_null=True, help_text="assigned_at to first_agent_reply_at.")
    duration_seconds = serializers.IntegerField(allow_null=True, help_text="created_at to ended_at.")
    handle_seconds = serializers.IntegerField(help_text="The sum of the closed agent segments.")


def _between(start, end):
    return int((end - start).total_seconds()) if start and end else None


class BrandConversationDetailOut(BrandConversationOut):
    segments = BrandSegmentOut(many=True, read_only=True)
    messages = serializers.SerializerMethodField(help_text=f"The first {MESSAGE_PAGE}, private notes included; page on with .../messages?after_seq=.")
    timings = serializers.SerializerMethodField()

    class Meta(BrandConversationOut.Meta):
        fields = [*BrandConversationOut.Meta.fields, "timings", "segments", "messages"]

    @extend_schema_field(BrandMessageOut(many=True))
    def get_messages(self, conversation):
        return BrandMessageOut(conversation.messages.order_by("seq").prefetch_related("attachments")[:MESSAGE_PAGE], many=True).data

    @extend_schema_field(BrandTimingsOut)
    def get_timings(self, conversation):
        handle = sum(int((s.ended_at - s.started_at).total_seconds()) for s in conversation.segments.all() if s.ended_at)
        return {
            "wait_seconds": _between(conversation.queued_at, conversation.assigned_at),
            "first_response_seconds": _between(conversation.assigned_at, conversation.first_agent_reply_at),
            "duration_seconds": _between(conversation.created_at, conversation.ended_at),
            "handle_seconds": handle,
        }


class BrandTranscriptOut(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    text = serializers.CharField(help_text="The plain-text transcript the customer is emailed (no private notes).")


class BrandMessageListOut(serializers.Serializer):
    messages = BrandMessageOut(many=True)
    last_seq = serializers.IntegerField(help_text="The conversation's last sequence number.")
    has_more = serializers.BooleanField(help_text="More messages follow: ask again with after_seq = the last seq you got.")


class BrandMessageInput(serializers.Serializer):
    sender = serializers.ChoiceField(choices=[("bot", "bot"), ("agent", "agent")], help_text="`bot`: a line from your bot, while the chat is queued or active. `agent`: on behalf of the agent holding the chat (`agent_id`).")
    body = serializers.CharField(max_length=4000, trim_whitespace=False)
    client_msg_id = serializers.CharField(max_length=64, required=False, help_text="Makes retries idempotent: the same id returns the stored message (200).")
    agent_id = serializers.IntegerField(required=False, help_text="For sender=agent: an agent staffed on the brand.")
    author = serializers.CharField(max_length=80, required=False, help_text="For sender=bot: the name shown; default the key's name.")
    internal = serializers.BooleanField(default=False, help_text="For sender=agent: a private note (never shown to the customer).")


class ConversationFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=Conversation.State.choices, help_text="Repeat for several states.")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ended_after = UTCDateTimeFilter(field_name="ended_at", lookup_expr="gte")
    ended_before = UTCDateTimeFilter(field_name="ended_at", lookup_expr="lt")
    category = django_filters.CharFilter(field_name="category__slug", help_text="A category slug.")
    agent = django_filters.NumberFilter(field_name="agent_id", help_text="An agent id (GET /api/v1/agents).")
    customer_email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    tag = django_filters.CharFilter(field_name="wrap_up__tags__slug", distinct=True, help_text="A wrap-up tag's slug.")
    disposition = django_filters.ChoiceFilter(field_name="wrap_up__disposition", choices=WrapUp.Disposition.choices)
    sla_breached = django_filters.BooleanFilter(method="filter_sla_breached", help_text="Only conversations with (true) or without (false) an SLA breach.")

    class Meta:
        model = Conversation
        fields = ["state", "category", "agent", "customer_email", "tag", "disposition", "sla_breached"]

    def filter_sla_breached(self, queryset, name, value):
        breached = Exists(SlaEvent.objects.filter(conversation_id=OuterRef("pk")))
        return queryset.filter(breached) if value else queryset.exclude(breached)


# --- conversations -----------------------------------------------------------------


class ConversationListView(ChatBrandAPIMixin, generics.ListAPIView):
    """The brand's conversations, newest first unless `ordering` says otherwise."""

    resource = Resource.CONVERSATIONS
    serializer_class = BrandConversationOut
    filterset_class = ConversationFilter
    ordering_fields = ["created_at", "ended_at", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return Conversation.objects.select_related("category")


CONVERSATION_EXAMPLE = {
    "id": 42, "state": "ended", "customer_name": "Dana Customer", "customer_email": "dana@example.com",
    "customer_external_id": "C-1", "identity_verified": True, "category": "shipping", "summary": "Where is my parcel?",
    "product_id": "P-9", "custom_fields": {"order": "A-100"}, "agent_id": 7, "agent_name": "Alice", "last_seq": 5,
    "suggested_article_ids": [3], "resolved_article": None, "created_at": "2026-12-01T09:00:00Z",
    "queued_at": "2026-12-01T09:01:00Z", "quoted_wait_seconds": 60, "assigned_at": "2026-12-01T09:01:40Z",
    "first_agent_reply_at": "2026-12-01T09:02:00Z", "ended_at": "2026-12-01T09:10:00Z", "ended_by": "agent",
    "timings": {"wait_seconds": 40, "first_response_seconds": 20, "duration_seconds": 600, "handle_seconds": 500},
    "segments": [{"agent_id": 7, "agent_name": "Alice", "started_at": "2026-12-01T09:01:40Z", "ended_at": "2026-12-01T09:10:00Z", "end_reason": "ended", "seconds": 500}],
    "messages": [{"id": 91, "seq": 2, "client_msg_id": "c-1", "sender": "agent", "author": "Alice", "agent_id": 7, "body": "How can I help?", "internal": False, "sent_at": "2026-12-01T09:02:00Z"}],
}


@extend_schema_view(get=extend_schema(examples=[OpenApiExample("An ended chat", value=CONVERSATION_EXAMPLE, response_only=True)]))
class ConversationDetailView(ChatBrandAPIMixin, generics.RetrieveAPIView):
    """One conversation with its timings, agent segments and messages."""

    resource = Resource.CONVERSATIONS
    serializer_class = BrandConversationDetailOut
    lookup_url_kwarg = "conversation_id"

    def get_queryset(self):
        return Conversation.objects.select_related("category").prefetch_related("segments")


class ConversationTranscriptView(ChatBrandAPIMixin, generics.GenericAPIView):
    resource = Resource.CONVERSATIONS
    serializer_class = BrandTranscriptOut
    lookup_url_kwarg = "conversation_id"
    queryset = Conversation.objects.select_related("category")
    pagination_class = None
    filter_backends: list = []

    def get(self, request, conversation_id):
        conversation = self.get_object()
        return Response({"conversation_id": conversation.id, "text": transcript_text(brand=self.brand, conversation=conversation)})


class ConversationMessagesView(ChatBrandAPIMixin, generics.GenericAPIView):
    """Messages after a sequence number (the seq is the cursor), and posting one."""

    resource = Resource.MESSAGES
    lookup_url_kwarg = "conversation_id"
    queryset = Conversation.objects.all()
    pagination_class = None
    filter_backends: list = []
    serializer_class = BrandMessageInput

    @extend_schema(
        parameters=[OpenApiParameter("after_seq", int, description="Only messages with a higher seq (default 0).")],
        responses={200: BrandMessageListOut},
    )
    def get(self, request, conversation_id):
        conversation = self.get_object()
        after = seq_parse(request.query_params.get("after_seq"))
        messages = list(Message.objects.filter(conversation=conversation, seq__gt=after).order_by("seq").prefetch_related("attachments")[: MESSAGE_PAGE + 1])
        return Response({"messages": BrandMessageOut(messages[:MESSAGE_PAGE], many=True).data, "last_seq": conversation.last_seq, "has_more": len(messages) > MESSAGE_PAGE})

    @extend_schema(
        request=BrandMessageInput,
        responses={201: BrandMessageOut, 200: BrandMessageOut},
        examples=[
            OpenApiExample("A bot line", value={"sender": "bot", "body": "An agent will be with you shortly.", "client_msg_id": "crm-7f3a"}, request_only=True),
            OpenApiExample("On behalf of the agent", value={"sender": "agent", "agent_id": 12, "body": "Your refund is on its way.", "client_msg_id": "crm-7f3b"}, request_only=True),
        ],
    )
    def post(self, request, conversation_id):
        conversation = self.get_object()
        data = BrandMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if values["sender"] == "bot":
                author = values.get("author") or request.auth.name
                message, created = bot_message_send(conversation_id=conversation.id, body=values["body"], author=author, client_msg_id=values.get("client_msg_id"))
            else:
                agent = agent_get_on_brand(brand=self.brand, agent_id=values.get("agent_id"))
                if agent is None:
                    raise ChatError("agent_id: no agent with this id is staffed on the brand.", "invalid")
                message, created = message_send(
                    conversation_id=conversation.id, sender=Message.Sender.AGENT, body=values["body"],
                    client_msg_id=values.get("client_msg_id"), agent=agent, internal=values["internal"],
                )
        except Conversation.DoesNotExist:
            raise ChatError("No such conversation.", "not_found", 404) from None
        return Response(BrandMessageOut(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- custom fields and canned replies ----------------------------------------------


class BrandCustomFieldOut(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "label", "field_type", "required", "choices", "pattern", "help_text", "position", "is_active"]
        read_only_fields = ["id", "key"]


class CustomFieldListView(ChatBrandAPIMixin, generics.ListAPIView):
    resource = Resource.SETTINGS
    serializer_class = BrandCustomFieldOut
    queryset = CustomField.objects.all()
    filterset_fields = ["is_active", "field_type"]
    ordering_fields = ["position", "key", "id"]
    ordering = ["position"]


class CustomFieldDetailView(ChatBrandAPIMixin, generics.RetrieveUpdateAPIView):
    resource = Resource.SETTINGS
    serializer_class = BrandCustomFieldOut
    queryset = CustomField.objects.all()
    lookup_url_kwarg = "field_id"
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = custom_field_update(field=serializer.instance, changes=serializer.validated_data)


class BrandCannedReplyOut(serializers.ModelSerializer):
    class Meta:
        model = CannedReply
        fields = ["id", "shortcut", "title", "body"]
        read_only_fields = ["id"]


class CannedReplyListView(ChatBrandAPIMixin, generics.ListCreateAPIView):
    resource = Resource.SETTINGS
    serializer_class = BrandCannedReplyOut
    queryset = CannedReply.objects.all()
    filterset_fields = ["shortcut"]
    ordering_fields = ["shortcut", "id"]
    ordering = ["shortcut"]

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], responses={201: BrandCannedReplyOut})
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = canned_reply_create(**serializer.validated_data)


class CannedReplyDetailView(ChatBrandAPIMixin, generics.RetrieveUpdateDestroyAPIView):
    resource = Resource.SETTINGS
    serializer_class = BrandCannedReplyOut
    queryset = CannedReply.objects.all()
    lookup_url_kwarg = "reply_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = canned_reply_update(reply=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        canned_reply_delete(reply=instance)


class ConversationAttachmentView(FileDownloadMixin, ChatBrandAPIMixin, generics.GenericAPIView):
    """A file sent in the conversation, for the brand's integrations (the messages key)."""

    resource = Resource.MESSAGES
    lookup_url_kwarg = "conversation_id"
    queryset = Conversation.objects.all()
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={(200, "application/octet-stream"): FILE_RESPONSE})
    def get(self, request, conversation_id, attachment_id):
        conversation = self.get_object()
        try:
            attachment = attachment_get_for_brand(conversation=conversation, attachment_id=attachment_id)
        except AttachmentNotFound:
            raise ChatError("No such attachment in this conversation.", "not_found", 404) from None
        return attachment_response(attachment, request=request._request)
