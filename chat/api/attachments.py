"""What the widget's and the agent's attachment endpoints share: the upload's size guard,
reading the one file, and the file download's content negotiation. Each API keeps its
own views (chat.api.widget, workspace.api.views), which resolve and authorize first."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser

from chat.attachments import upload_too_large, upload_guard_install
from chat.errors import ChatError


class AttachmentUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="One file, as multipart/form-data. Its type is recognised from the content; the name's extension must agree.")


class AttachmentOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="Put it in `attachment_ids` of the message that sends it.")
    name = serializers.CharField(help_text="The uploaded name, cleaned: render as text.")
    content_type = serializers.CharField(help_text="Sniffed from the content.")
    size = serializers.IntegerField(help_text="Bytes (images after re-encoding without EXIF).")
    is_image = serializers.BooleanField()
    has_thumbnail = serializers.BooleanField()
    download_url = serializers.CharField(help_text="Served with Content-Disposition: attachment.")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="Images only: at most 320 px a side, inline.")


FILE_RESPONSE = OpenApiResponse(OpenApiTypes.BINARY, description="The file, with its sniffed Content-Type, `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none'; sandbox` and `Cache-Control: private`.")


class AttachmentUploadMixin:
    """Before DRF reads anything (the CSRF check of a session reads the body), put the
    streaming size guard in front of Django's upload handlers."""

    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        self.upload_guard = upload_guard_install(request._request)
        super().initial(request, *args, **kwargs)

    def uploaded_file(self, request):
        files = request.FILES
        if self.upload_guard.exceeded:
            raise upload_too_large(settings.ATTACHMENT_UPLOAD_MAX_BYTES)
        upload = files.get("file")
        if upload is None:
            raise ChatError("Send the file as multipart/form-data in the field `file`.", "no_file")
        return upload


class FileDownloadMixin:
    """A file answers whatever the client accepts (an <img> asks for image/*)."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
