"""The agent API (platform host, /api/agent/v1/). One view per operation; brand-scoped
operations inherit AgentBrandAPIView (or AgentConversationAPIView), which resolves and
authorizes the brand (and the conversation) once."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import services as chat
from chat.api.attachments import FILE_RESPONSE, AttachmentOut, AttachmentUploadInput, AttachmentUploadMixin, FileDownloadMixin
from chat.api.serializers import MessageAttachmentOut
from chat.attachments import attachment_meta, attachment_response, attachment_upload
from chat.errors import ChatError
from chat.escalations import conversation_push
from chat.messages import MAX_BODY, MAX_CLIENT_MSG_ID, conversation_read, message_send, seq_parse
from chat.models import Attachment, Conversation, Message, WrapUp
from chat.search import MAX_QUERY, ConversationFilters
from chat.offline import offline_message_reply
from chat.selectors import AttachmentNotFound, attachment_get_for_agent, message_frame, messages_after
from chat.transfers import conversation_reassign, conversation_transfer
from chat.wrapup import conversation_wrap_up, wrap_up_validate
from helpdesk.models import AgentToken
from helpdesk.selectors import agent_get_for_user, agent_get_on_brand
from routing import services as routing
from routing.models import AgentState
from tenants.throttles import AGENT_TOKEN_THROTTLES

from . import base
from .. import selectors


# --- answer shapes, for the OpenAPI schema (the payloads are built by workspace.selectors)


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False)


class TokenAgentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; only its hash is stored.")
    agent = TokenAgentOut()


class StaffedBrandOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    color = serializers.CharField()
    role = serializers.ChoiceField(choices=["agent", "supervisor"])
    categories = serializers.ListField(child=serializers.CharField())


class AgentMeOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    username = serializers.CharField()
    capacity = serializers.IntegerField()
    active_chats = serializers.IntegerField()
    presence = serializers.ChoiceField(choices=AgentState.Presence.values)
    brands = StaffedBrandOut(many=True)


class QueueItemOut(serializers.Serializer):
    brand = serializers.CharField()
    brand_name = serializers.CharField()
    brand_color = serializers.CharField()
    conversation_id = serializers.IntegerField()
    category = serializers.CharField()
    category_name = serializers.CharField(required=False)
    customer_name = serializers.CharField()
    summary = serializers.CharField()
    state = serializers.CharField()
    priority = serializers.IntegerField()
    waited_seconds = serializers.IntegerField()
    offered_to_me = serializers.BooleanField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)


class QueueOut(serializers.Serializer):
    queue = QueueItemOut(many=True)


class HeldOut(serializers.Serializer):
    conversations = QueueItemOut(many=True)


class CustomerOut(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    customer_id = serializers.CharField()
    verified = serializers.BooleanField(required=False)


class CategoryRefOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ArticleShownOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    url = serializers.CharField()


class HistoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    created_at = serializers.DateTimeField()
    agent_name = serializers.CharField()


class AgentConversationOut(serializers.Serializer):
    brand = serializers.CharField()
    brand_name = serializers.CharField()
    brand_color = serializers.CharField()
    id = serializers.IntegerField()
    state = serializers.CharField()
    customer = CustomerOut()
    category = CategoryRefOut()
    summary = serializers.CharField()
    product_id = serializers.CharField()
    custom_fields = serializers.DictField()
    custom_field_labels = serializers.DictField(child=serializers.CharField())
    articles_shown = ArticleShownOut(many=True)
    article_helped = serializers.BooleanField()
    agent = TokenAgentOut(allow_null=True)
    last_seq = serializers.IntegerField()
    customer_read_seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    history = HistoryOut(many=True)


class DetailOut(serializers.Serializer):
    detail = serializers.CharField()


class MessageFrameOut(serializers.Serializer):
    type = serializers.CharField()
    seq = serializers.IntegerField()
    id = serializers.IntegerField()
    client_msg_id = serializers.CharField(allow_null=True)
    sender = serializers.ChoiceField(choices=Message.Sender.values)
    author = serializers.CharField()
    body = serializers.CharField()
    internal = serializers.BooleanField()
    sent_at = serializers.DateTimeField()
    attachments = MessageAttachmentOut(many=True, help_text="Links through this API (session or agent token).")


class AgentMessagesOut(serializers.Serializer):
    messages = MessageFrameOut(many=True)
    last_seq = serializers.IntegerField()


class ReadOut(serializers.Serializer):
    agent_read_seq = serializers.IntegerField()


class TeamMemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    presence = serializers.ChoiceField(choices=AgentState.Presence.values)
    active_chats = serializers.IntegerField()
    capacity = serializers.IntegerField()


class BrandAgentsOut(serializers.Serializer):
    agents = TeamMemberOut(many=True)


class AgentCannedReplyOut(serializers.Serializer):
    shortcut = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()


class CannedRepliesOut(serializers.Serializer):
    canned_replies = AgentCannedReplyOut(many=True)


class SupervisedChatOut(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    agent_id = serializers.IntegerField(allow_null=True)
    agent_name = serializers.CharField()
    customer_name = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    since_seconds = serializers.IntegerField()


class WaitingChatOut(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    state = serializers.CharField()
    priority = serializers.IntegerField()
    waited_seconds = serializers.IntegerField()
    sla = serializers.ChoiceField(choices=["", "ok", "at_risk", "breached"], help_text="The queue-wait promise; empty when the brand sets no target.")


class CsatFiguresOut(serializers.Serializer):
    window_hours = serializers.IntegerField()
    answered = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    satisfied_percent = serializers.IntegerField(allow_null=True)


class SlaFiguresOut(serializers.Serializer):
    window_hours = serializers.IntegerField()
    ran_out = serializers.IntegerField(help_text="Clocks due in the window that were stopped (met) or breached.")
    breached = serializers.IntegerField()
    met_percent = serializers.IntegerField(allow_null=True, help_text="Share of ran_out that was met; null when none ran out.")
    at_risk = serializers.IntegerField(help_text="Open clocks (neither stopped nor breached) past their warning time now.")


class SupervisedBrandOut(serializers.Serializer):
    brand = serializers.CharField()
    brand_name = serializers.CharField()
    csat = CsatFiguresOut()
    sla = SlaFiguresOut()
    waiting = WaitingChatOut(many=True)
    queue_length = serializers.IntegerField()
    oldest_wait_seconds = serializers.IntegerField()
    agents = TeamMemberOut(many=True)
    chats = SupervisedChatOut(many=True)


class OverviewOut(serializers.Serializer):
    brands = SupervisedBrandOut(many=True)


class OfflineMessageOut(serializers.Serializer):
    brand = serializers.CharField()
    brand_name = serializers.CharField()
    brand_color = serializers.CharField()
    id = serializers.IntegerField()
    customer = CustomerOut()
    category = serializers.CharField()
    summary = serializers.CharField()
    product_id = serializers.CharField()
    custom_fields = serializers.DictField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class OfflineMessagesOut(serializers.Serializer):
    offline_messages = OfflineMessageOut(many=True)


class WrapUpOut(serializers.Serializer):
    tags = serializers.ListField(child=serializers.DictField())
    disposition = serializers.CharField(allow_blank=True)


class InboxItemOut(serializers.Serializer):
    brand = serializers.CharField()
    brand_name = serializers.CharField()
    brand_color = serializers.CharField()
    id = serializers.IntegerField()
    state = serializers.CharField()
    customer_name = serializers.CharField()
    customer_email = serializers.EmailField()
    verified = serializers.BooleanField()
    category = serializers.CharField()
    summary = serializers.CharField()
    product_id = serializers.CharField(allow_blank=True)
    agent_name = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    wrap_up = WrapUpOut(allow_null=True)
    sla_breached = serializers.BooleanField(help_text="At least one SLA breach was recorded on the conversation.")


class InboxOut(serializers.Serializer):
    conversations = InboxItemOut(many=True)
    page = serializers.IntegerField()
    has_next = serializers.BooleanField()


class SegmentOut(serializers.Serializer):
    agent_name = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField(allow_blank=True)


class SurveyAnswerOut(serializers.Serializer):
    rating = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    answered_via = serializers.CharField(allow_blank=True)


class ContactOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    customer_id = serializers.CharField(allow_blank=True)
    verified = serializers.BooleanField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


class TranscriptOut(AgentConversationOut):
    messages = MessageFrameOut(many=True)
    timings = serializers.DictField(child=serializers.CharField(allow_null=True))
    segments = SegmentOut(many=True)
    survey = SurveyAnswerOut(allow_null=True)
    wrap_up = WrapUpOut(allow_null=True)
    contact = ContactOut(allow_null=True)


class TagOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class DispositionOut(serializers.Serializer):
    value = serializers.CharField()
    name = serializers.CharField()


class TagsOut(serializers.Serializer):
    tags = TagOut(many=True)
    dispositions = DispositionOut(many=True)


class ContactsOut(serializers.Serializer):
    contacts = ContactOut(many=True)


class ContactDetailOut(ContactOut):
    conversations = InboxItemOut(many=True)


class OfflineReplyOut(serializers.Serializer):
    id = serializers.IntegerField()
    detail = serializers.CharField()


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200)
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)


class TokenCreateView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = AGENT_TOKEN_THROTTLES

    @extend_schema(request=TokenInput, responses={201: TokenOut, 400: ErrorOut})
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        agent = agent_get_for_user(user=user)
        if agent is None:
            return Response({"detail": "Wrong username or password, or not an agent.", "code": "bad_credentials"}, status=400)
        _, raw = AgentToken.issue(user=user, label=data.validated_data.get("label", ""))
        return Response({"token": raw, "agent": {"id": agent.id, "name": agent.display_name}}, status=201)


class MeView(base.AgentAPIView):
    @extend_schema(responses=AgentMeOut)
    def get(self, request):
        return Response(selectors.agent_payload(agent=self.agent))


class PresenceInput(serializers.Serializer):
    presence = serializers.ChoiceField(choices=AgentState.Presence.values)


class PresenceView(base.AgentAPIView):
    @extend_schema(request=PresenceInput, responses={200: AgentMeOut, 400: ErrorOut})
    def post(self, request):
        data = PresenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        routing.presence_set(agent=self.agent, presence=data.validated_data["presence"])
        return Response(selectors.agent_payload(agent=self.agent))


class QueueView(base.AgentAPIView):
    """One queue across every brand the agent is staffed on."""

    @extend_schema(responses=QueueOut)
    def get(self, request):
        return Response({"queue": selectors.queue_for_agent(agent=self.agent)})


class MyConversationsView(base.AgentAPIView):
    @extend_schema(responses=HeldOut)
    def get(self, request):
        return Response({"conversations": selectors.conversations_held(agent=self.agent)})


class ConversationDetailView(base.AgentConversationAPIView):
    @extend_schema(responses={200: AgentConversationOut, 404: ErrorOut})
    def get(self, request, brand, conversation_id):
        return Response(selectors.conversation_detail(conversation=self.conversation, brand=self.brand))


class AcceptView(base.AgentConversationAPIView):
    @extend_schema(request=None, responses={200: AgentConversationOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        conversation = chat.conversation_accept(agent=self.agent, brand=self.brand, conversation_id=self.conversation.id)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class DeclineView(base.AgentConversationAPIView):
    @extend_schema(request=None, responses={200: DetailOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        chat.conversation_decline(agent=self.agent, brand=self.brand, conversation_id=self.conversation.id)
        return Response({"detail": "Declined; the chat goes to the next agent."})


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY, trim_whitespace=False, required=False, allow_blank=True, help_text="Required unless the message carries attachments.")
    client_msg_id = serializers.CharField(max_length=MAX_CLIENT_MSG_ID, required=False, allow_null=True)
    internal = serializers.BooleanField(default=False)
    attachment_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=10, help_text="Files you uploaded to this conversation (POST .../attachments), each sent once.")


class MessagesView(base.AgentConversationAPIView):
    @extend_schema(parameters=[OpenApiParameter("after_seq", int)], responses={200: AgentMessagesOut, 400: ErrorOut, 404: ErrorOut})
    def get(self, request, brand, conversation_id):
        after_seq = seq_parse(request.query_params.get("after_seq"))
        messages = messages_after(conversation=self.conversation, after_seq=after_seq, include_internal=True)
        return Response({"messages": [self.agent_frame(message_frame(m)) for m in messages], "last_seq": self.conversation.last_seq})

    @extend_schema(request=MessageInput, responses={201: MessageFrameOut, 200: MessageFrameOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = message_send(
            conversation_id=self.conversation.id, sender=Message.Sender.AGENT, body=data.validated_data.get("body"),
            client_msg_id=data.validated_data.get("client_msg_id"), agent=self.agent, internal=data.validated_data["internal"],
            attachment_ids=data.validated_data.get("attachment_ids"),
        )
        return Response(self.agent_frame(message_frame(message)), status=201 if created else 200)


class AttachmentUploadView(AttachmentUploadMixin, base.AgentConversationAPIView):
    @extend_schema(request={"multipart/form-data": AttachmentUploadInput}, responses={201: AttachmentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut})
    def post(self, request, brand, conversation_id):
        upload = self.uploaded_file(request)
        attachment = attachment_upload(brand=self.brand, conversation=self.conversation, side=Attachment.Side.AGENT, upload=upload, agent_id=self.agent.id)
        return Response(self.agent_frame({"attachments": [attachment_meta(attachment)]})["attachments"][0], status=201)


class AttachmentDownloadView(FileDownloadMixin, base.AgentConversationAPIView):
    """Any agent who may open the conversation may open its files; an <img> in the
    workspace sends the session cookie."""

    thumbnail = False

    @extend_schema(responses={(200, "application/octet-stream"): FILE_RESPONSE, 404: ErrorOut})
    def get(self, request, brand, conversation_id, attachment_id):
        attachment = attachment_get_for_agent(conversation=self.conversation, attachment_id=attachment_id)
        if self.thumbnail and not attachment.thumbnail_path:
            raise AttachmentNotFound
        return attachment_response(attachment, request=request._request, thumbnail=self.thumbnail)


class AttachmentThumbnailView(AttachmentDownloadView):
    thumbnail = True


class ReadInput(serializers.Serializer):
    up_to_seq = serializers.IntegerField(min_value=0)


class ReadView(base.AgentConversationAPIView):
    @extend_schema(request=ReadInput, responses={200: ReadOut, 400: ErrorOut, 404: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        seq = conversation_read(conversation_id=self.conversation.id, reader=Message.Sender.AGENT, up_to_seq=data.validated_data["up_to_seq"])
        return Response({"agent_read_seq": seq})


class WrapUpInput(serializers.Serializer):
    tags = serializers.ListField(child=serializers.SlugField(max_length=40), required=False, default=list, max_length=10)
    disposition = serializers.ChoiceField(choices=WrapUp.Disposition.values, required=False, allow_blank=True, default="")


class EndView(base.AgentConversationAPIView):
    """End the chat; a wrap-up (tags, disposition) may come with it."""

    @extend_schema(request=WrapUpInput, responses={200: AgentConversationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = WrapUpInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        wrap_up_validate(tag_slugs=data.validated_data["tags"], disposition=data.validated_data["disposition"])
        conversation = chat.conversation_end(brand=self.brand, conversation_id=self.conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=self.agent)
        if data.validated_data["tags"] or data.validated_data["disposition"]:
            conversation_wrap_up(conversation_id=conversation.id, agent=self.agent, tag_slugs=data.validated_data["tags"], disposition=data.validated_data["disposition"])
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class WrapUpView(base.AgentConversationAPIView):
    """Record or correct the wrap-up of an ended chat (one the customer or inactivity ended)."""

    @extend_schema(request=WrapUpInput, responses={200: TranscriptOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = WrapUpInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation_wrap_up(conversation_id=self.conversation.id, agent=self.agent, tag_slugs=data.validated_data["tags"], disposition=data.validated_data["disposition"])
        return Response(selectors.conversation_transcript(conversation=self.conversation, brand=self.brand))


class TagsView(base.AgentBrandAPIView):
    @extend_schema(responses={200: TagsOut})
    def get(self, request, brand):
        return Response(selectors.tags_payload())


class InboxInput(serializers.Serializer):
    brand = serializers.SlugField(required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=[selectors.InboxScope.MINE, selectors.InboxScope.BRAND], required=False, default=selectors.InboxScope.MINE)
    state = serializers.ChoiceField(choices=Conversation.State.values, required=False, allow_blank=True, default="")
    agent = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    category = serializers.SlugField(required=False, allow_blank=True, default="")
    tag = serializers.SlugField(required=False, allow_blank=True, default="")
    disposition = serializers.ChoiceField(choices=WrapUp.Disposition.values, required=False, allow_blank=True, default="")
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_QUERY)
    sla_breached = serializers.BooleanField(required=False, default=False, help_text="Only conversations with an SLA breach.")
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=selectors.INBOX_MAX_PAGE)


class InboxView(base.AgentAPIView):
    """Past and present conversations across the agent's brands, filtered and searched."""

    @extend_schema(parameters=[InboxInput], responses={200: InboxOut, 400: ErrorOut})
    def get(self, request):
        data = InboxInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        filters = ConversationFilters(
            state=v["state"], category=v["category"], tag=v["tag"], disposition=v["disposition"], agent_id=v["agent"],
            date_from=v["date_from"], date_to=v["date_to"], text=v["q"], sla_breached=v["sla_breached"],
        )
        return Response(selectors.inbox_for_agent(agent=self.agent, filters=filters, brand_slug=v["brand"], scope=v["scope"], page=v["page"]))


class TranscriptView(base.AgentConversationAPIView):
    @extend_schema(responses={200: TranscriptOut, 404: ErrorOut})
    def get(self, request, brand, conversation_id):
        return Response(selectors.conversation_transcript(conversation=self.conversation, brand=self.brand))


class TransferInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField(required=False, allow_null=True)
    category = serializers.SlugField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_BODY)


def _agent_on_brand_or_refuse(*, brand, agent_id):
    agent = agent_get_on_brand(brand=brand, agent_id=agent_id)
    if agent is None:
        raise ChatError("That agent is not staffed on this brand.", "not_eligible", 400)
    return agent


class TransferView(base.AgentConversationAPIView):
    @extend_schema(request=TransferInput, responses={200: AgentConversationOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        to_agent_id = data.validated_data.get("to_agent_id")
        to_agent = _agent_on_brand_or_refuse(brand=self.brand, agent_id=to_agent_id) if to_agent_id else None
        conversation = conversation_transfer(
            agent=self.agent, brand=self.brand, conversation_id=self.conversation.id, to_agent=to_agent,
            category=data.validated_data.get("category") or None, note=data.validated_data.get("note", ""),
        )
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class BrandAgentsView(base.AgentBrandAPIView):
    """Colleagues on this brand, for transfer and the supervisor view."""

    @extend_schema(responses={200: BrandAgentsOut, 404: ErrorOut})
    def get(self, request, brand):
        return Response({"agents": selectors.brand_agents(brand=self.brand)})


class CannedRepliesView(base.AgentBrandAPIView):
    @extend_schema(responses={200: CannedRepliesOut, 404: ErrorOut})
    def get(self, request, brand):
        return Response({"canned_replies": selectors.canned_replies()})


class SupervisorOverviewView(base.AgentAPIView):
    """Per brand the agent supervises: queue length, oldest wait, agents' state and load,
    chats in progress."""

    @extend_schema(responses=OverviewOut)
    def get(self, request):
        return Response({"brands": selectors.supervisor_overview(agent=self.agent)})


class ReassignInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField(required=False, allow_null=True)


class SupervisorReassignView(base.AgentConversationAPIView):
    """A supervisor takes over a chat (no to_agent_id) or hands it to another agent."""

    roles = {"POST": base.SUPERVISORS}

    @extend_schema(request=ReassignInput, responses={200: AgentConversationOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = ReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        to_agent_id = data.validated_data.get("to_agent_id")
        to_agent = _agent_on_brand_or_refuse(brand=self.brand, agent_id=to_agent_id) if to_agent_id else None
        conversation = conversation_reassign(supervisor=self.agent, brand=self.brand, conversation=self.conversation, to_agent=to_agent)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class PushInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField()


class SupervisorPushView(base.AgentConversationAPIView):
    """A supervisor gives a waiting chat to a named agent (an escalated chat, say)."""

    roles = {"POST": base.SUPERVISORS}

    @extend_schema(request=PushInput, responses={200: AgentConversationOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, conversation_id):
        data = PushInput(data=request.data)
        data.is_valid(raise_exception=True)
        to_agent = _agent_on_brand_or_refuse(brand=self.brand, agent_id=data.validated_data["to_agent_id"])
        conversation = conversation_push(supervisor=self.agent, brand=self.brand, conversation=self.conversation, to_agent=to_agent)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class OfflineMessagesView(base.AgentAPIView):
    """Unanswered offline messages across every brand the agent serves, oldest first."""

    @extend_schema(responses=OfflineMessagesOut)
    def get(self, request):
        return Response({"offline_messages": selectors.offline_messages_for_agent(agent=self.agent)})


class OfflineReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY)


class OfflineMessageReplyView(base.AgentBrandAPIView):
    @extend_schema(request=OfflineReplyInput, responses={200: OfflineReplyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request, brand, message_id):
        data = OfflineReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = offline_message_reply(agent=self.agent, brand=self.brand, message_id=message_id, body=data.validated_data["body"])
        return Response({"id": message.id, "detail": f"Reply emailed to {message.customer_email}."})


class ContactsView(base.AgentBrandAPIView):
    """The brand's contacts, newest first, searched by name, email or customer ID."""

    @extend_schema(operation_id="agent_v1_brands_contacts_list", parameters=[OpenApiParameter("q", str)], responses={200: ContactsOut, 400: ErrorOut})
    def get(self, request, brand):
        text = request.query_params.get("q", "")
        if len(text) > MAX_QUERY:
            return Response({"detail": f"Search text is at most {MAX_QUERY} characters.", "code": "bad_query"}, status=400)
        return Response({"contacts": selectors.contacts_search(text=text)})


class ContactDetailView(base.AgentBrandAPIView):
    @extend_schema(responses={200: ContactDetailOut, 404: ErrorOut})
    def get(self, request, brand, contact_id):
        try:
            return Response(selectors.contact_detail(contact_id=contact_id, brand=self.brand))
        except selectors.ContactNotFound as exc:
            return Response({"detail": exc.detail, "code": "not_found"}, status=404)
