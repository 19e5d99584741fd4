from django.urls import path

from . import views

brand_conversation = "brands/<slug:brand>/conversations/<int:conversation_id>"

urlpatterns = [
    path("auth/token", views.TokenCreateView.as_view()),
    path("me", views.MeView.as_view()),
    path("presence", views.PresenceView.as_view()),
    path("queue", views.QueueView.as_view()),
    path("conversations", views.MyConversationsView.as_view()),
    path("inbox", views.InboxView.as_view()),
    path("brands/<slug:brand>/tags", views.TagsView.as_view()),
    path("brands/<slug:brand>/contacts", views.ContactsView.as_view()),
    path("brands/<slug:brand>/contacts/<int:contact_id>", views.ContactDetailView.as_view()),
    path(brand_conversation, views.ConversationDetailView.as_view()),
    path(f"{brand_conversation}/accept", views.AcceptView.as_view()),
    path(f"{brand_conversation}/decline", views.DeclineView.as_view()),
    path(f"{brand_conversation}/messages", views.MessagesView.as_view()),
    path(f"{brand_conversation}/attachments", views.AttachmentUploadView.as_view()),
    path(f"{brand_conversation}/attachments/<int:attachment_id>", views.AttachmentDownloadView.as_view()),
    path(f"{brand_conversation}/attachments/<int:attachment_id>/thumbnail", views.AttachmentThumbnailView.as_view()),
    path(f"{brand_conversation}/read", views.ReadView.as_view()),
    path(f"{brand_conversation}/end", views.EndView.as_view()),
    path(f"{brand_conversation}/wrap-up", views.WrapUpView.as_view()),
    path(f"{brand_conversation}/transcript", views.TranscriptView.as_view()),
    path(f"{brand_conversation}/transfer", views.TransferView.as_view()),
    path(f"{brand_conversation}/reassign", views.SupervisorReassignView.as_view()),
    path(f"{brand_conversation}/push", views.SupervisorPushView.as_view()),
    path("brands/<slug:brand>/agents", views.BrandAgentsView.as_view()),
    path("brands/<slug:brand>/canned-replies", views.CannedRepliesView.as_view()),
    path("supervisor/overview", views.SupervisorOverviewView.as_view()),
    path("offline-messages", views.OfflineMessagesView.as_view()),
    path("brands/<slug:brand>/offline-messages/<int:message_id>/reply", views.OfflineMessageReplyView.as_view()),
]
