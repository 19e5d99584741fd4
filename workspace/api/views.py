"""The agent API (platform host, /api/agent/v1/). One view per operation; brand-scoped
operations inherit AgentBrandAPIView (or AgentConversationAPIView), which resolves and
authorizes the brand (and the conversation) once."""

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import services as chat
from chat.errors import ChatError
from chat.messages import MAX_BODY, MAX_CLIENT_MSG_ID, conversation_read, message_send, seq_parse
from chat.models import Conversation, Message
from chat.offline import offline_message_reply
from chat.selectors import message_frame, messages_after
from chat.transfers import conversation_reassign, conversation_transfer
from helpdesk.models import AgentToken
from helpdesk.selectors import agent_get_for_user, agent_get_on_brand
from routing import services as routing
from routing.models import AgentState
from tenants.throttles import AGENT_TOKEN_THROTTLES

from . import base
from .. import selectors


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200)
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)


class TokenCreateView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = AGENT_TOKEN_THROTTLES

    @extend_schema(request=TokenInput, responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
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
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(selectors.agent_payload(agent=self.agent))


class PresenceInput(serializers.Serializer):
    presence = serializers.ChoiceField(choices=AgentState.Presence.values)


class PresenceView(base.AgentAPIView):
    @extend_schema(request=PresenceInput, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        data = PresenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        routing.presence_set(agent=self.agent, presence=data.validated_data["presence"])
        return Response(selectors.agent_payload(agent=self.agent))


class QueueView(base.AgentAPIView):
    """One queue across every brand the agent is staffed on."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"queue": selectors.queue_for_agent(agent=self.agent)})


class MyConversationsView(base.AgentAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"conversations": selectors.conversations_held(agent=self.agent)})


class ConversationDetailView(base.AgentConversationAPIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, brand, conversation_id):
        return Response(selectors.conversation_detail(conversation=self.conversation, brand=self.brand))


class AcceptView(base.AgentConversationAPIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        conversation = chat.conversation_accept(agent=self.agent, brand=self.brand, conversation_id=self.conversation.id)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class DeclineView(base.AgentConversationAPIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        chat.conversation_decline(agent=self.agent, brand=self.brand, conversation_id=self.conversation.id)
        return Response({"detail": "Declined; the chat goes to the next agent."})


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY, trim_whitespace=False)
    client_msg_id = serializers.CharField(max_length=MAX_CLIENT_MSG_ID, required=False, allow_null=True)
    internal = serializers.BooleanField(default=False)


class MessagesView(base.AgentConversationAPIView):
    @extend_schema(parameters=[OpenApiParameter("after_seq", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request, brand, conversation_id):
        after_seq = seq_parse(request.query_params.get("after_seq"))
        messages = messages_after(conversation=self.conversation, after_seq=after_seq, include_internal=True)
        return Response({"messages": [message_frame(m) for m in messages], "last_seq": self.conversation.last_seq})

    @extend_schema(request=MessageInput, responses={201: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = message_send(
            conversation_id=self.conversation.id, sender=Message.Sender.AGENT, body=data.validated_data["body"],
            client_msg_id=data.validated_data.get("client_msg_id"), agent=self.agent, internal=data.validated_data["internal"],
        )
        return Response(message_frame(message), status=201 if created else 200)


class ReadInput(serializers.Serializer):
    up_to_seq = serializers.IntegerField(min_value=0)


class ReadView(base.AgentConversationAPIView):
    @extend_schema(request=ReadInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, brand, conversation_id):
        data = ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        seq = conversation_read(conversation_id=self.conversation.id, reader=Message.Sender.AGENT, up_to_seq=data.validated_data["up_to_seq"])
        return Response({"agent_read_seq": seq})


class EndView(base.AgentConversationAPIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, brand, conversation_id):
        conversation = chat.conversation_end(brand=self.brand, conversation_id=self.conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=self.agent)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


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
    @extend_schema(request=TransferInput, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
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

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, brand):
        return Response({"agents": selectors.brand_agents(brand=self.brand)})


class CannedRepliesView(base.AgentBrandAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, brand):
        return Response({"canned_replies": selectors.canned_replies()})


class SupervisorOverviewView(base.AgentAPIView):
    """Per brand the agent supervises: queue length, oldest wait, agents' state and load,
    chats in progress."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"brands": selectors.supervisor_overview(agent=self.agent)})


class ReassignInput(serializers.Serializer):
    to_agent_id = serializers.IntegerField(required=False, allow_null=True)


class SupervisorReassignView(base.AgentConversationAPIView):
    """A supervisor takes over a chat (no to_agent_id) or hands it to another agent."""

    roles = {"POST": base.SUPERVISORS}

    @extend_schema(request=ReassignInput, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, conversation_id):
        data = ReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        to_agent_id = data.validated_data.get("to_agent_id")
        to_agent = _agent_on_brand_or_refuse(brand=self.brand, agent_id=to_agent_id) if to_agent_id else None
        conversation = conversation_reassign(supervisor=self.agent, brand=self.brand, conversation=self.conversation, to_agent=to_agent)
        return Response(selectors.conversation_detail(conversation=conversation, brand=self.brand))


class OfflineMessagesView(base.AgentAPIView):
    """Unanswered offline messages across every brand the agent serves, oldest first."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"offline_messages": selectors.offline_messages_for_agent(agent=self.agent)})


class OfflineReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY)


class OfflineMessageReplyView(base.AgentBrandAPIView):
    @extend_schema(request=OfflineReplyInput, responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, brand, message_id):
        data = OfflineReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = offline_message_reply(agent=self.agent, brand=self.brand, message_id=message_id, body=data.validated_data["body"])
        return Response({"id": message.id, "detail": f"Reply emailed to {message.customer_email}."})
