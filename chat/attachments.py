"""Attachments (brand schema): a file uploaded over HTTP, then referenced by one message.

The upload is checked against the brand's limit and type allow-list, with the type
recognised from the content (binary signatures by `filetype`, images decoded by Pillow,
plain text as UTF-8 without NUL); a name whose extension claims another type is refused,
so `invoice.pdf` that is a PNG, or `photo.png` that is HTML, never gets in. Images are
re-encoded, which drops their EXIF (the location with it) after applying its
orientation, and get a thumbnail. Files go to the default storage
(`storages["default"]`) under `<schema>/attachments/<conversation>/<random>`.

Downloads are never public (MEDIA_URL is not served): agents fetch through the agent API,
customers with the conversation's token or a signed link (`attachment_link_sign`), since
an <img> cannot send the token. See docs/protocol.md, "Attachments".
"""

import hashlib
import io
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import filetype
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tenants.models import AttachmentType, Brand
from tenants.storage import brand_files_folder

from .errors import ChatError
from .models import Attachment, Conversation, Message

MAX_PER_MESSAGE = 10
MAX_NAME = 255
# Enough of the file for every signature `filetype` knows and for the markup check.
SNIFF_BYTES = 8192

# The extensions a name may have for each type; a name without one claims nothing.
EXTENSIONS = {
    AttachmentType.PNG: {".png"},
    AttachmentType.JPEG: {".jpg", ".jpeg", ".jpe", ".jfif"},
    AttachmentType.GIF: {".gif"},
    AttachmentType.WEBP: {".webp"},
    AttachmentType.PDF: {".pdf"},
    AttachmentType.TEXT: {".txt", ".text", ".log", ".md", ".csv"},
}
# Names a customer knows in any language, for the refusals.
SHORT_NAMES = {
    AttachmentType.PNG: "PNG", AttachmentType.JPEG: "JPEG", AttachmentType.GIF: "GIF",
    AttachmentType.WEBP: "WebP", AttachmentType.PDF: "PDF", AttachmentType.TEXT: "TXT",
}
# Pillow's name for each image type, to check that the decoder agrees with the signature.
IMAGE_FORMATS = {AttachmentType.PNG: "PNG", AttachmentType.JPEG: "JPEG", AttachmentType.GIF: "GIF", AttachmentType.WEBP: "WEBP"}
# Markup is text, but a browser runs its script: never stored, whatever a brand allows.
MARKUP_TYPES = {"text/html", "image/svg+xml", "application/xml"}

SIDES = {Message.Sender.CUSTOMER: Attachment.Side.CUSTOMER, Message.Sender.AGENT: Attachment.Side.AGENT}
UPLOAD_STATES = {
    Attachment.Side.CUSTOMER: (Conversation.State.QUEUED, Conversation.State.ACTIVE),
    # Agents also attach to notes, which stay open after the end (chat.messages.NOTE_STATES).
    Attachment.Side.AGENT: (Conversation.State.QUEUED, Conversation.State.ACTIVE, Conversation.State.ENDED),
}

LINK_SALT = "chat.attachments.link"


class AttachmentLinkInvalid(Exception):
    """A tampered link, or one for another brand, conversation or attachment."""


class AttachmentLinkExpired(Exception):
    """A genuine link past its time."""


# --- The upload --------------------------------------------------------------------------

class UploadCeilingHandler(FileUploadHandler):
    """Stops reading a multipart body once it passes the server's ceiling, whatever
    Content-Length said. Installed before anything reads the body."""

    def __init__(self, request=None, *, ceiling: int):
        super().__init__(request)
        self.ceiling = ceiling
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.ceiling:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_guard_install(request) -> UploadCeilingHandler:
    """Refuse a body that says it is over the ceiling, and stop one that turns out to be."""
    ceiling = settings.ATTACHMENT_UPLOAD_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > ceiling + 64 * 1024:  # room for the multipart framing
        raise upload_too_large(ceiling)
    guard = UploadCeilingHandler(request, ceiling=ceiling)
    request.upload_handlers = [guard, *request.upload_handlers]
    return guard


def upload_too_large(limit: int) -> ChatError:
    return ChatError(_("Files can be up to %(size)s.") % {"size": size_label(limit)}, "file_too_large", 413)


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} B"


def name_clean(raw) -> str:
    """The uploaded name made safe to show and to put in a header: no folders, no control
    or invisible characters, at most MAX_NAME characters keeping the extension."""
    name = str(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ").strip(" .")
    if not name:
        return "file"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


def content_sniff(head: bytes, read_all) -> str | None:
    """The type of the content: a binary signature first, then text (UTF-8 without NUL),
    with markup told apart so it can be refused. None when we cannot tell."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    data = read_all()
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text[:1024].lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in text[:4096].lower()):
        return "image/svg+xml"
    if start.startswith(("<!doctype html", "<html", "<script", "<head", "<body", "<iframe")):
        return "text/html"
    if start.startswith("<?xml"):
        return "application/xml"
    return AttachmentType.TEXT


@dataclass
class Prepared:
    content: bytes
    content_type: str
    thumbnail: bytes | None
    thumbnail_type: str | None


def _image_reencode(data: bytes, content_type: str) -> Prepared:
    """Decode the image for real (a valid signature over junk is refused), apply its EXIF
    orientation, and write it out again without EXIF or text chunks, so no location
    survives; a thumbnail of at most ATTACHMENT_THUMBNAIL_PIXELS a side beside it."""
    bad = ChatError(_("This image could not be read. Try another file."), "bad_image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != IMAGE_FORMATS[content_type]:
                raise bad
            if probe.width * probe.height > settings.ATTACHMENT_MAX_IMAGE_PIXELS:
                raise ChatError(_("This image is too large (in pixels) to show. Send a smaller one."), "image_too_large", 413)
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except ChatError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise bad from None
    image_format = IMAGE_FORMATS[content_type]
    animated = getattr(image, "n_frames", 1) > 1
    out = io.BytesIO()
    if animated:
        # Frames as they are: GIF and WebP animations carry no EXIF location to remove
        # once written anew (Pillow writes no exif unless asked).
        image.save(out, format=image_format, save_all=True)
    else:
        image = ImageOps.exif_transpose(image)
        if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, format=image_format, **({"quality": 90} if image_format in ("JPEG", "WEBP") else {}))
    if animated:
        image.seek(0)  # the first frame stands for the animation
    thumb = image.copy()
    thumb = thumb.convert("RGBA") if thumb.mode in ("P", "LA") else thumb
    thumb.thumbnail((settings.ATTACHMENT_THUMBNAIL_PIXELS, settings.ATTACHMENT_THUMBNAIL_PIXELS))
    thumb_format, thumb_type = ("JPEG", "image/jpeg") if image_format == "JPEG" else ("PNG", "image/png")
    if thumb_format == "JPEG" and thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGB")
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, format=thumb_format)
    return Prepared(out.getvalue(), content_type, thumb_out.getvalue(), thumb_type)


def attachment_prepare(*, brand: Brand, name: str, upload) -> Prepared:
    """Check one uploaded file against the brand's rules; the bytes to store."""
    if brand.attachment_max_bytes == 0 or not brand.attachment_types:
        raise ChatError(_("Files cannot be attached in this chat."), "attachments_off", 403)
    limit = min(brand.attachment_max_bytes, settings.ATTACHMENT_UPLOAD_MAX_BYTES)
    if upload.size > limit:
        raise upload_too_large(limit)
    if upload.size == 0:
        raise ChatError(_("This file is empty."), "empty_file")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)

    def read_all():
        upload.seek(0)
        return upload.read()

    sniffed = content_sniff(head, read_all)
    allowed = set(brand.attachment_types) - MARKUP_TYPES
    if sniffed not in allowed:
        kinds = ", ".join(SHORT_NAMES[t] for t in AttachmentType.values if t in allowed)
        raise ChatError(_("This kind of file cannot be attached. You can send: %(kinds)s.") % {"kinds": kinds}, "type_not_allowed", 415)
    extension = ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""
    if extension and extension not in EXTENSIONS[sniffed]:
        raise ChatError(
            _("The file's name says %(claimed)s but it contains %(actual)s. Rename it or send another file.")
            % {"claimed": extension, "actual": SHORT_NAMES[sniffed]},
            "type_mismatch",
            415,
        )
    data = read_all()
    if sniffed in IMAGE_FORMATS:
        return _image_reencode(data, sniffed)
    return Prepared(data, sniffed, None, None)


def attachment_upload(*, brand: Brand, conversation: Conversation, side: str, upload, agent_id: int | None = None) -> Attachment:
    """Store an uploaded file for `conversation` (already authorized by the caller)."""
    if conversation.state not in UPLOAD_STATES[side]:
        raise ChatError(_("Files can be attached while the chat is going on."), "bad_state", 409)
    # A cap per conversation: the brand's size limit alone would let one chat fill the disk.
    if Attachment.objects.filter(conversation=conversation).count() >= settings.ATTACHMENT_MAX_PER_CONVERSATION:
        raise ChatError(_("This chat has as many files as it can take."), "too_many_attachments", 409)
    name = name_clean(getattr(upload, "name", ""))
    prepared = attachment_prepare(brand=brand, name=name, upload=upload)
    if "." not in name:
        # A name that claimed nothing gets the extension of what it is, for the download.
        name = f"{name}{sorted(EXTENSIONS[prepared.content_type])[0]}"[:MAX_NAME]
    storage = storages["default"]
    folder = f"{brand_files_folder(connection.schema_name)}/attachments/{conversation.id}"
    key = secrets.token_urlsafe(24)
    path = storage.save(f"{folder}/{key}", ContentFile(prepared.content))
    thumbnail_path = storage.save(f"{folder}/{key}-thumb", ContentFile(prepared.thumbnail)) if prepared.thumbnail else ""
    try:
        return Attachment.objects.create(
            conversation=conversation, uploaded_by=side, agent_id=agent_id, name=name, content_type=prepared.content_type,
            size=len(prepared.content), sha256=hashlib.sha256(prepared.content).hexdigest(), storage_path=path, thumbnail_path=thumbnail_path,
        )
    except Exception:
        _files_delete([path, thumbnail_path])
        raise


def _files_delete(paths) -> None:
    storage = storages["default"]
    for path in paths:
        if path:
            storage.delete(path)


# Rows per run: each is one storage delete (a round trip to a bucket), and the hourly
# task comes back for the rest.
PRUNE_BATCH = 500


def attachments_unsent_prune(*, now=None) -> int:
    """Files uploaded but never sent, older than ATTACHMENT_UNSENT_HOURS, in the current
    brand's schema: rows first, files once that commits (a file without a row is harmless,
    a row without its file is a broken link)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.ATTACHMENT_UNSENT_HOURS)
    with transaction.atomic():
        stale = list(
            Attachment.objects.select_for_update(skip_locked=True).filter(message__isnull=True, created_at__lt=cutoff)
            .order_by("id").values_list("id", "storage_path", "thumbnail_path")[:PRUNE_BATCH]
        )
        Attachment.objects.filter(id__in=[row[0] for row in stale]).delete()
        paths = [path for _, *row in stale for path in row]
        transaction.on_commit(lambda: _files_delete(paths))
    return len(stale)


# --- Referencing from a message ------------------------------------------------------------

def attachment_ids_parse(raw) -> list[int]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        raise ChatError("attachment_ids must be a list of attachment ids.", "bad_attachment_ids")
    ids = list(dict.fromkeys(raw))
    if len(ids) > MAX_PER_MESSAGE:
        raise ChatError(_("A message can carry up to %(count)s files.") % {"count": MAX_PER_MESSAGE}, "too_many_attachments")
    return ids


def attachments_link(*, message: Message, attachment_ids: list[int]) -> list[Attachment]:
    """Give the attachments to the message just stored, in the same transaction: each one
    of its own conversation, uploaded by the same side (and, for an agent, by the same
    agent) and not yet in any message. Anything else refuses the whole message."""
    side = SIDES.get(message.sender)
    claimed = Attachment.objects.filter(id__in=attachment_ids, conversation_id=message.conversation_id, uploaded_by=side, message__isnull=True)
    if side == Attachment.Side.AGENT:
        claimed = claimed.filter(agent_id=message.agent_id)
    # The row locks make two messages racing for one attachment take it once.
    taken = list(claimed.select_for_update())
    if side is None or len(taken) != len(attachment_ids):
        raise ChatError(_("A file in this message is not available. Attach it again."), "attachment_unavailable")
    Attachment.objects.filter(id__in=[a.id for a in taken]).update(message_id=message.id)
    order = {attachment_id: index for index, attachment_id in enumerate(attachment_ids)}
    for attachment in taken:
        attachment.message_id = message.id
    return sorted(taken, key=lambda a: order[a.id])


# --- What clients see --------------------------------------------------------------------

def attachment_meta(attachment: Attachment) -> dict:
    """An attachment as frames carry it; each side adds its own links (below, and
    workspace.selectors for agents)."""
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "is_image": attachment.is_image,
        "has_thumbnail": bool(attachment.thumbnail_path),
    }


def frame_with_links(frame: dict, links) -> dict:
    """`frame` with `links(attachment) -> {download_url, thumbnail_url}` added to each
    attachment; frames without attachments come back as they are."""
    if not frame.get("attachments"):
        return frame
    return {**frame, "attachments": [{**item, **links(item)} for item in frame["attachments"]]}


def attachment_link_sign(*, schema: str, conversation_id: int, attachment_id: int, seconds: int | None = None) -> str:
    """A signed token naming one attachment of one conversation in one brand, good for
    `seconds` (ATTACHMENT_LINK_SECONDS): what a customer's <img> or link carries."""
    expires = int(time.time()) + (seconds or settings.ATTACHMENT_LINK_SECONDS)
    return signing.dumps({"s": schema, "c": conversation_id, "a": attachment_id, "e": expires}, salt=LINK_SALT, compress=False)


def attachment_link_check(*, token: str, schema: str, conversation_id: int, attachment_id: int) -> None:
    try:
        payload = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        raise AttachmentLinkInvalid from None
    if not isinstance(payload, dict) or (payload.get("s"), payload.get("c"), payload.get("a")) != (schema, conversation_id, attachment_id):
        raise AttachmentLinkInvalid
    if not isinstance(payload.get("e"), int) or payload["e"] < time.time():
        raise AttachmentLinkExpired


def customer_links(*, schema: str, conversation_id: int, seconds: int | None = None, absolute: str = ""):
    """The customer's links for frame_with_links: signed, on the brand host."""

    def links(item: dict) -> dict:
        sig = attachment_link_sign(schema=schema, conversation_id=conversation_id, attachment_id=item["id"], seconds=seconds)
        base = f"{absolute}/api/widget/v1/conversations/{conversation_id}/attachments/{item['id']}"
        return {"download_url": f"{base}?sig={sig}", "thumbnail_url": f"{base}/thumbnail?sig={sig}" if item.get("has_thumbnail") else None}

    return links


def customer_frame(frame: dict, *, schema: str, conversation_id: int) -> dict:
    return frame_with_links(frame, customer_links(schema=schema, conversation_id=conversation_id))


# --- The file itself ---------------------------------------------------------------------

DOWNLOAD_CHUNK = 256 * 1024


async def _chunks(file):
    # Under ASGI Django reads a synchronous iterator whole before sending the first byte:
    # for files of up to ATTACHMENT_UPLOAD_MAX_BYTES per download, read it piece by piece.
    try:
        while chunk := await sync_to_async(file.read, thread_sensitive=False)(DOWNLOAD_CHUNK):
            yield chunk
    finally:
        await sync_to_async(file.close, thread_sensitive=False)()


def attachment_response(attachment: Attachment, *, request, thumbnail: bool = False) -> StreamingHttpResponse:
    """The stored file, served so that no browser runs or guesses it: the sniffed type,
    nosniff, a sandboxing policy, and `attachment` disposition except for a thumbnail."""
    storage = storages["default"]
    if thumbnail:
        path = attachment.thumbnail_path
        content_type = "image/jpeg" if attachment.content_type == AttachmentType.JPEG else "image/png"
    else:
        path, content_type = attachment.storage_path, attachment.content_type
    if content_type == AttachmentType.TEXT:
        content_type = "text/plain; charset=utf-8"
    file = storage.open(path, "rb")
    if isinstance(request, ASGIRequest):
        response = StreamingHttpResponse(_chunks(file), content_type=content_type)
        response["Content-Length"] = str(storage.size(path))
    else:
        response = FileResponse(file, content_type=content_type)
    response["Content-Disposition"] = content_disposition(attachment.name, inline=thumbnail)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def content_disposition(name: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback for old clients, the real name as RFC 5987 UTF-8."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

