"""The customer's language on a brand host (runs in the brand's schema, after the brand is
resolved): the widget's `?locale=` (its `data-locale`; the chat page's API calls send it
back as `X-Helpdesk-Locale`), else, where the brand allows it, the
first language of the browser's Accept-Language that we have, else the brand's locale.
Platform hosts keep Django's own choice."""

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

SUPPORTED = {code for code, _ in settings.LANGUAGES}


def supported_language(value) -> str | None:
    """"de-CH" -> "de" when we speak it; None otherwise."""
    if not isinstance(value, str) or not value:
        return None
    code = value.strip().lower().replace("_", "-")
    if code in SUPPORTED:
        return code
    base = code.split("-")[0]
    return base if base in SUPPORTED else None


def customer_language(*, brand, query_locale=None, accept_language: str = "") -> str:
    chosen = supported_language(query_locale)
    if chosen:
        return chosen
    if brand.customer_locale_allowed:
        for code, _ in parse_accept_lang_header(accept_language or ""):
            chosen = supported_language(code)
            if chosen:
                return chosen
    return supported_language(brand.locale) or "en"


def conversation_language(*, brand, conversation) -> str:
    """The language a chat is in: the customer's when it started, else the brand's. Lines
    the chat gets outside the customer's own request (an agent joining, the inactivity
    sweep, a transfer) are written in it."""
    return supported_language(conversation.locale) or supported_language(brand.locale) or "en"


class CustomerLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        brand = getattr(request, "brand", None)
        if brand is None:
            return self.get_response(request)
        # The chat page's API calls carry the page's language in X-Helpdesk-Locale.
        chosen = request.GET.get("locale") or request.headers.get("X-Helpdesk-Locale")
        language = customer_language(brand=brand, query_locale=chosen, accept_language=request.headers.get("Accept-Language", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch = response.get("Vary", "")
        if "Accept-Language" not in patch:
            response["Vary"] = f"{patch}, Accept-Language" if patch else "Accept-Language"
        return response
