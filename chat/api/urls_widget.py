from django.urls import path

from . import widget

urlpatterns = [
    path("config", widget.ConfigView.as_view()),
    path("conversations", widget.ConversationCreateView.as_view()),
    path("offline-messages", widget.OfflineMessageCreateView.as_view()),
    path("conversations/<int:conversation_id>", widget.ConversationDetailView.as_view()),
    path("conversations/<int:conversation_id>/resolve", widget.ConversationResolveView.as_view()),
    path("conversations/<int:conversation_id>/escalate", widget.ConversationEscalateView.as_view()),
    path("conversations/<int:conversation_id>/leave", widget.ConversationLeaveView.as_view()),
    path("conversations/<int:conversation_id>/messages", widget.MessagesView.as_view()),
    path("conversations/<int:conversation_id>/attachments", widget.AttachmentUploadView.as_view()),
    path("conversations/<int:conversation_id>/attachments/<int:attachment_id>", widget.AttachmentDownloadView.as_view()),
    path("conversations/<int:conversation_id>/attachments/<int:attachment_id>/thumbnail", widget.AttachmentThumbnailView.as_view()),
    path("conversations/<int:conversation_id>/end", widget.ConversationEndView.as_view()),
    path("conversations/<int:conversation_id>/survey", widget.SurveyView.as_view()),
    path("conversations/<int:conversation_id>/transcript", widget.TranscriptView.as_view()),
]
