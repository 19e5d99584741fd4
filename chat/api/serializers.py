"""Shapes of the widget API, for validation where DRF does it and for the OpenAPI schema.
The pre-chat form itself is validated by chat.prechat (it depends on the brand's fields)."""

from rest_framework import serializers


class PrechatInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, help_text="Required unless the brand's prechat_fields say otherwise (GET config).")
    email = serializers.EmailField(required=False, help_text="Required unless the brand's prechat_fields say otherwise; always for an offline message.")
    customer_id = serializers.CharField(max_length=120, required=False, allow_blank=True)
    category = serializers.SlugField(required=False, help_text="One of the brand's categories (GET config); when not asked, the brand's first.")
    summary = serializers.CharField(max_length=2000, help_text="The question; stored as the transcript's first message (seq 1).")
    client_key = serializers.CharField(required=False, min_length=16, max_length=64, help_text="Same as the Idempotency-Key header.")
    product_id = serializers.CharField(max_length=120, required=False, allow_blank=True)
    custom_fields = serializers.DictField(required=False, help_text="The brand's custom fields by key.")
    identity = serializers.CharField(required=False, help_text="A signed identity token from the brand's server.")


class ArticleOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    url = serializers.CharField()
    body_html = serializers.CharField(help_text="Sanitized HTML.")
    score = serializers.FloatField(required=False, help_text="How well it matches the problem, as shown when the conversation started (the create response and GET of the conversation). Nothing under the brand's threshold is suggested.")
    why = serializers.DictField(required=False, help_text="`product`: the product ID it matched, or null; `words`: the customer's words it matched.")


class ConversationOut(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["suggesting", "resolved_by_article", "queued", "active", "ended", "abandoned"])
    token = serializers.CharField(required=False, help_text="Only when created: send as `Authorization: Bearer <token>`.")
    category = serializers.CharField()
    summary = serializers.CharField()
    customer = serializers.DictField()
    agent = serializers.DictField(allow_null=True)
    last_seq = serializers.IntegerField()
    agent_read_seq = serializers.IntegerField()
    suggestions = ArticleOut(many=True)
    resolved_article_id = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(required=False, allow_null=True)
    eta_seconds = serializers.IntegerField(required=False, allow_null=True)
    survey = serializers.DictField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class PlaceOut(serializers.Serializer):
    state = serializers.CharField()
    position = serializers.IntegerField()
    eta_seconds = serializers.IntegerField()


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=4000, required=False, allow_blank=True, help_text="Required unless the message carries attachments.")
    client_msg_id = serializers.CharField(max_length=64, required=False)
    attachment_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=10, help_text="Files uploaded to this conversation by this side (POST .../attachments), each sent once.")


class MessageAttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Render as text.")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    is_image = serializers.BooleanField()
    has_thumbnail = serializers.BooleanField()
    download_url = serializers.CharField(help_text="For the widget: signed, valid for ATTACHMENT_LINK_SECONDS (an hour); GET the messages again for fresh links.")
    thumbnail_url = serializers.CharField(allow_null=True)


class MessageOut(serializers.Serializer):
    type = serializers.CharField()
    seq = serializers.IntegerField()
    id = serializers.IntegerField()
    client_msg_id = serializers.CharField(allow_null=True)
    sender = serializers.ChoiceField(choices=["customer", "agent", "system"])
    author = serializers.CharField()
    body = serializers.CharField()
    internal = serializers.BooleanField()
    sent_at = serializers.DateTimeField()
    attachments = MessageAttachmentOut(many=True)


class MessageListOut(serializers.Serializer):
    messages = MessageOut(many=True)
    last_seq = serializers.IntegerField()


class DetailOut(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
