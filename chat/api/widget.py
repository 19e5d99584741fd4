"""The widget API on a brand host: JSON, no cookies; after creation, the conversation's
token as `Authorization: Bearer <token>`. Paths are the contract in DESIGN.md."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import services
from chat.attachments import AttachmentLinkExpired, attachment_meta, attachment_response, attachment_upload, customer_frame, customer_links
from chat.customer_emails import transcript_email_request
from chat.errors import ChatError
from chat.messages import message_send, seq_parse
from chat.models import Attachment, Conversation, CustomField, Message
from chat.offline import offline_message_create
from chat.prechat import PrechatInvalid, prechat_asks
from chat.selectors import (
    AttachmentNotFound,
    ConversationNotFound,
    attachment_get_for_customer,
    conversation_get_for_customer,
    conversation_suggestions,
    message_frame,
    messages_after,
)
from knowledge.models import Category
from knowledge.selectors import article_payload
from routing.selectors import queue_place
from surveys.selectors import survey_for_conversation
from surveys.services import SurveyError, survey_answer
from tenants.throttles import CONVERSATION_CREATE_THROTTLES

from .attachments import FILE_RESPONSE, AttachmentOut, AttachmentUploadInput, AttachmentUploadMixin, FileDownloadMixin
from .serializers import ConversationOut, DetailOut, MessageInput, MessageListOut, MessageOut, PlaceOut, PrechatInput


class WidgetView(APIView):
    """Base for the widget API: the brand comes from the host (the middleware entered its
    schema); errors are JSON with `detail` and `code`."""

    authentication_classes: list = []
    permission_classes: list = []

    def handle_exception(self, exc):
        if isinstance(exc, (ChatError, SurveyError)):
            return Response({"detail": exc.detail, "code": exc.code}, status=exc.status)
        if isinstance(exc, PrechatInvalid):
            first = next(iter(exc.errors.values()))
            return Response({"detail": first, "code": "invalid", "errors": exc.errors}, status=400)
        if isinstance(exc, ConversationNotFound):
            return Response({"detail": exc.detail, "code": "not_found"}, status=404)
        if isinstance(exc, AttachmentNotFound):
            return Response({"detail": exc.detail, "code": "not_found"}, status=404)
        if isinstance(exc, AttachmentLinkExpired):
            return Response({"detail": gettext("This link has expired. Reload the chat to get a new one."), "code": "link_expired"}, status=403)
        return super().handle_exception(exc)

    @property
    def brand(self):
        return self.request.brand


def bearer_token(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


class WidgetConversationView(WidgetView):
    """Resolves and authorizes the conversation from the URL id and the bearer token, in
    one step: a missing conversation and someone else's give the same 404."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.conversation = conversation_get_for_customer(conversation_id=kwargs.get("conversation_id"), token=bearer_token(request))

    def customer_frame(self, frame: dict) -> dict:
        return customer_frame(frame, schema=self.brand.schema_name, conversation_id=self.conversation.id)


def conversation_payload(conversation: Conversation, *, brand) -> dict:
    data = {
        "id": conversation.id,
        "state": conversation.state,
        "category": conversation.category.slug if conversation.category_id else None,
        "summary": conversation.summary,
        "customer": {"name": conversation.customer_name, "email": conversation.customer_email, "customer_id": conversation.customer_external_id},
        "agent": {"id": conversation.agent_id, "name": conversation.agent_name} if conversation.agent_id else None,
        "last_seq": conversation.last_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "suggestions": [article_payload(a) for a in conversation_suggestions(conversation=conversation)],
        "resolved_article_id": conversation.resolved_article_id,
        "created_at": conversation.created_at.isoformat(),
        "ended_at": conversation.ended_at.isoformat() if conversation.ended_at else None,
    }
    if conversation.state == Conversation.State.QUEUED:
        place = queue_place(brand_id=brand.id, conversation_id=conversation.id)
        data["position"] = place.position if place else None
        data["eta_seconds"] = place.eta_seconds if place else None
    survey = survey_for_conversation(conversation_id=conversation.id)
    data["survey"] = {"requested": survey is not None, "answered": bool(survey and survey.is_answered)}
    return data


class ConfigView(WidgetView):
    @extend_schema(parameters=[OpenApiParameter("identity", str, description="A signed identity token to prefill from.")], responses={200: dict, 400: DetailOut})
    def get(self, request):
        brand = self.brand
        availability = services.chat_availability(brand=brand)
        opening = services.next_opening(brand=brand)
        identity = None
        token = request.query_params.get("identity")
        if token:
            found = services.identity_from_token(brand=brand, token=token)
            identity = {"name": found.name, "email": found.email, "customer_id": found.customer_id, "fields": found.fields}
        return Response(
            {
                "brand": {"name": brand.name, "slug": brand.slug, "color": brand.primary_color, "logo": brand.logo.url if brand.logo else None, "locale": brand.locale},
                "availability": availability,
                "availability_detail": services.chat_unavailable_detail(brand=brand, availability=availability) if availability != "open" else "",
                "next_opening": opening.isoformat() if opening else None,
                "offline_form": brand.offline_form_enabled,
                "prechat_fields": prechat_asks(brand.prechat_fields),
                "categories": [{"slug": c.slug, "name": c.name} for c in Category.objects.filter(is_active=True)],
                "custom_fields": [
                    {"key": f.key, "label": f.label, "type": f.field_type, "required": f.required, "choices": f.choices, "pattern": f.pattern, "help_text": f.help_text}
                    for f in CustomField.objects.filter(is_active=True)
                ],
                "identity": identity,
                "socket_path": "/ws/widget/v1/conversations/{id}/",
            }
        )


class ConversationCreateView(WidgetView):
    throttle_classes = CONVERSATION_CREATE_THROTTLES

    @extend_schema(
        request=PrechatInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, description="The client's key for this start (16-64 of A-Z a-z 0-9 - _); the same key answers with the same conversation and token (200).")],
        responses={201: ConversationOut, 200: ConversationOut, 400: DetailOut},
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        client_key = request.headers.get("Idempotency-Key") or data.get("client_key") or None
        started = services.conversation_start(brand=self.brand, data=data, identity_token=data.get("identity") or None, client_key=client_key)
        body = conversation_payload(started.conversation, brand=self.brand)
        body["suggestions"] = [article_payload(a) for a in started.suggestions]  # with each one's score and why
        body["token"] = started.token
        return Response(body, status=201 if started.created else 200)


class OfflineMessageCreateView(WidgetView):
    @extend_schema(request=PrechatInput, responses={201: DetailOut, 400: DetailOut})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        category = data.get("category") if isinstance(data.get("category"), str) else None
        reason = services.chat_availability(brand=self.brand, category=category)
        message = offline_message_create(
            brand=self.brand, data=data, identity_token=data.get("identity") or None, reason=reason if reason != "open" else "no_agents"
        )
        return Response({"id": message.id, "detail": gettext("Thanks, we got your message and will reply by email.")}, status=201)


class ConversationDetailView(WidgetConversationView):
    @extend_schema(responses={200: ConversationOut, 404: DetailOut})
    def get(self, request, conversation_id):
        return Response(conversation_payload(self.conversation, brand=self.brand))


class ResolveInput(serializers.Serializer):
    article_id = serializers.IntegerField()


class ConversationResolveView(WidgetConversationView):
    @extend_schema(request=ResolveInput, responses={200: ConversationOut, 400: DetailOut, 404: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_resolve(conversation=self.conversation, article_id=data.validated_data["article_id"])
        return Response(conversation_payload(conversation, brand=self.brand))


class ConversationEscalateView(WidgetConversationView):
    @extend_schema(request=None, responses={200: PlaceOut, 404: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        place = services.conversation_escalate(brand=self.brand, conversation=self.conversation)
        self.conversation.refresh_from_db()
        return Response({"state": self.conversation.state, **place})


class ConversationLeaveView(WidgetConversationView):
    @extend_schema(request=None, responses={200: ConversationOut, 404: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        conversation = services.conversation_leave_queue(brand=self.brand, conversation=self.conversation)
        return Response(conversation_payload(conversation, brand=self.brand))


class MessagesView(WidgetConversationView):
    @extend_schema(parameters=[OpenApiParameter("after_seq", int, description="Only messages after this sequence number.")], responses={200: MessageListOut, 404: DetailOut})
    def get(self, request, conversation_id):
        after_seq = seq_parse(request.query_params.get("after_seq"))
        messages = messages_after(conversation=self.conversation, after_seq=after_seq, include_internal=False)
        return Response({"messages": [self.customer_frame(message_frame(m)) for m in messages], "last_seq": self.conversation.last_seq})

    @extend_schema(request=MessageInput, responses={200: MessageOut, 201: MessageOut, 400: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        data = request.data if isinstance(request.data, dict) else {}
        message, created = message_send(
            conversation_id=self.conversation.id, sender=Message.Sender.CUSTOMER, body=data.get("body"), client_msg_id=data.get("client_msg_id"),
            attachment_ids=data.get("attachment_ids"),
        )
        return Response(self.customer_frame(message_frame(message)), status=201 if created else 200)


class AttachmentUploadView(AttachmentUploadMixin, WidgetConversationView):
    @extend_schema(request={"multipart/form-data": AttachmentUploadInput}, responses={201: AttachmentOut, 400: DetailOut, 403: DetailOut, 404: DetailOut, 409: DetailOut, 413: DetailOut, 415: DetailOut})
    def post(self, request, conversation_id):
        upload = self.uploaded_file(request)
        attachment = attachment_upload(brand=self.brand, conversation=self.conversation, side=Attachment.Side.CUSTOMER, upload=upload)
        meta = attachment_meta(attachment)
        return Response({**meta, **customer_links(schema=self.brand.schema_name, conversation_id=self.conversation.id)(meta)}, status=201)


class AttachmentDownloadView(FileDownloadMixin, WidgetView):
    """With the conversation's token, or the signed link `?sig=` from a message frame
    (an <img> or a link cannot send the token)."""

    thumbnail = False

    @extend_schema(
        parameters=[OpenApiParameter("sig", str, description="The signed link from the message's `download_url`/`thumbnail_url`, instead of the bearer token.")],
        responses={(200, "application/octet-stream"): FILE_RESPONSE, 403: DetailOut, 404: DetailOut},
    )
    def get(self, request, conversation_id, attachment_id):
        attachment = attachment_get_for_customer(
            conversation_id=conversation_id, attachment_id=attachment_id, token=bearer_token(request), link=request.query_params.get("sig", "")[:500]
        )
        if self.thumbnail and not attachment.thumbnail_path:
            raise AttachmentNotFound
        return attachment_response(attachment, request=request._request, thumbnail=self.thumbnail)


class AttachmentThumbnailView(AttachmentDownloadView):
    thumbnail = True


class ConversationEndView(WidgetConversationView):
    @extend_schema(request=None, responses={200: ConversationOut, 404: DetailOut})
    def post(self, request, conversation_id):
        conversation = services.conversation_end(brand=self.brand, conversation_id=self.conversation.id, ended_by=Conversation.EndedBy.CUSTOMER)
        return Response(conversation_payload(conversation, brand=self.brand))


class SurveyInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SurveyView(WidgetConversationView):
    @extend_schema(request=SurveyInput, responses={200: dict, 400: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        data = SurveyInput(data=request.data)
        data.is_valid(raise_exception=True)
        survey = survey_answer(conversation_id=self.conversation.id, rating=data.validated_data["rating"], comment=data.validated_data.get("comment", ""))
        return Response({"rating": survey.rating, "comment": survey.comment, "detail": gettext("Thank you for your feedback.")})


class TranscriptView(WidgetConversationView):
    @extend_schema(request=None, responses={202: DetailOut, 409: DetailOut})
    def post(self, request, conversation_id):
        transcript_email_request(brand=self.brand, conversation=self.conversation)
        return Response({"detail": gettext("We're emailing the transcript to %(email)s.") % {"email": self.conversation.customer_email}}, status=202)


