"""Pages a brand's customer opens on the brand host: the hosted chat page (also what the
widget's iframe shows), the widget script, and the emailed survey link."""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods

from surveys.selectors import survey_get_by_email_token
from surveys.services import SurveyError, survey_answer


@xframe_options_exempt  # the widget shows this page in an iframe on the brand's own site
def chat_page(request):
    return render(request, "chat/chat.html")


def widget_script(request):
    brand = request.brand
    # json.dumps then escape "<" so nothing in the brand's name can close the script.
    # The launcher's words in the visitor's language (chat.locale chose it from Accept-Language).
    labels = {"open": gettext("Chat with %(brand)s"), "close": gettext("Close the chat"), "unread": gettext("%(count)s unread")}
    settings_json = json.dumps({"name": brand.name, "color": brand.primary_color, "labels": labels}).replace("<", "\\u003c")
    body = render_to_string("chat/widget.js", {"settings_json": settings_json}, request=request)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Language"
    return response


@require_http_methods(["GET", "POST"])
def survey_page(request, token: str):
    """The single-use survey link from the follow-up email."""
    survey = survey_get_by_email_token(token=token)
    if survey is not None and survey.conversation.locale:
        # The page speaks the language the chat was in, as the email did.
        translation.activate(survey.conversation.locale)
        request.LANGUAGE_CODE = survey.conversation.locale
    context = {"survey": survey, "ratings": range(1, 6), "error": None, "done": False}
    if survey is None or survey.is_answered:
        context["gone"] = True
        return render(request, "chat/survey.html", context, status=404 if survey is None else 410)
    if request.method == "POST":
        try:
            survey_answer(conversation_id=survey.conversation_id, rating=request.POST.get("rating"), comment=request.POST.get("comment", ""), via="email")
        except SurveyError as exc:
            context["error"] = exc.detail
            context["comment"] = request.POST.get("comment", "")
            return render(request, "chat/survey.html", context, status=400)
        context["done"] = True
    return render(request, "chat/survey.html", context)
