from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from tenants.admin_site import brand_admin

from .attachments import attachment_response, size_label
from .models import Attachment, CannedReply, Contact, Conversation, CustomField, Message, OfflineMessage, Tag


@admin.register(CustomField, site=brand_admin)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "field_type", "required", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["field_type", "required", "is_active"]


@admin.register(CannedReply, site=brand_admin)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "title"]
    search_fields = ["shortcut", "title", "body"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["seq", "sender", "author_name", "is_internal", "body", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    """The conversation's files as links to the admin's own download, which asks for the
    same rights as the conversation page; never the file in the page."""

    model = Attachment
    extra = 0
    can_delete = False
    fields = ["download", "content_type", "file_size", "uploaded_by", "message", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="File")
    def download(self, attachment):
        url = reverse("brand_admin:chat_conversation_attachment", args=[attachment.conversation_id, attachment.id])
        return format_html('<a href="{}">{}</a>', url, attachment.name)

    @admin.display(description="Size")
    def file_size(self, attachment):
        return size_label(attachment.size)


@admin.register(Conversation, site=brand_admin)
class ConversationAdmin(admin.ModelAdmin):
    """Read-only: conversations change only through the chat itself."""

    list_display = ["id", "customer_name", "customer_email", "category", "state", "agent_name", "created_at"]
    list_filter = ["state", "category", "identity_verified"]
    search_fields = ["customer_name", "customer_email", "customer_external_id", "summary"]
    date_hierarchy = "created_at"
    inlines = [MessageInline, AttachmentInline]
    # The client key gives back the conversation's token: as secret as the token's hash.
    exclude = ["token_hash", "client_key"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in ("token_hash", "client_key")]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        download = self.admin_site.admin_view(self.attachment_download)
        return [path("<int:conversation_id>/attachments/<int:attachment_id>/", download, name="chat_conversation_attachment"), *super().get_urls()]

    def attachment_download(self, request, conversation_id, attachment_id):
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None or not self.has_view_permission(request, conversation):
            raise Http404
        attachment = Attachment.objects.filter(pk=attachment_id, conversation=conversation).first()
        if attachment is None:
            raise Http404
        return attachment_response(attachment, request=request)


@admin.register(OfflineMessage, site=brand_admin)
class OfflineMessageAdmin(admin.ModelAdmin):
    list_display = ["customer_name", "customer_email", "category", "reason", "created_at", "handled_at"]
    list_filter = ["reason", "category"]
    search_fields = ["customer_name", "customer_email", "summary"]
    readonly_fields = ["created_at"]


@admin.register(Tag, site=brand_admin)
class TagAdmin(admin.ModelAdmin):
    """The brand's wrap-up tags; retire one with is_active rather than deleting it, so old
    chats keep their tags."""

    list_display = ["name", "slug", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Contact, site=brand_admin)
class ContactAdmin(admin.ModelAdmin):
    """Read-only: contacts are filed by the chat itself (chat.contacts)."""

    list_display = ["name", "email", "external_id", "identity_verified", "last_seen_at"]
    list_filter = ["identity_verified"]
    search_fields = ["name", "email", "external_id"]
    exclude = ["conversations"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
