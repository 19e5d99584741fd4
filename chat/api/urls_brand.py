"""The brand API's chat resources, mounted at /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from . import brand, reports

urlpatterns = [
    path("conversations", brand.ConversationListView.as_view()),
    path("conversations/<int:conversation_id>", brand.ConversationDetailView.as_view()),
    path("conversations/<int:conversation_id>/transcript", brand.ConversationTranscriptView.as_view()),
    path("conversations/<int:conversation_id>/messages", brand.ConversationMessagesView.as_view()),
    path("conversations/<int:conversation_id>/attachments/<int:attachment_id>", brand.ConversationAttachmentView.as_view()),
    path("custom-fields", brand.CustomFieldListView.as_view()),
    path("custom-fields/<int:field_id>", brand.CustomFieldDetailView.as_view()),
    path("canned-replies", brand.CannedReplyListView.as_view()),
    path("canned-replies/<int:reply_id>", brand.CannedReplyDetailView.as_view()),
    path("reports/summary", reports.BrandReportView.as_view()),
]
