"""Every API error is JSON with a human `detail`, a `code` for programs, and field
errors (`errors`) where there are some; never an HTML page, also for a path under /api/
that no view answers (handler404/handler500 of both URL confs)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _code_of(exc) -> str:
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, DjangoPermissionDenied):
        return "permission_denied"
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        data.setdefault("code", _code_of(exc))
        return response
    if isinstance(data, dict):
        # Field errors: keep them by field and add a summary a person can read.
        first_field, first_errors = next(iter(data.items()))
        first = first_errors[0] if isinstance(first_errors, list) and first_errors else first_errors
        detail = str(first) if first_field == "non_field_errors" else f"{first_field}: {first}"
        response.data = {"detail": detail, "code": "invalid", "errors": data}
    elif isinstance(data, list):
        response.data = {"detail": " ".join(str(item) for item in data), "code": _code_of(exc)}
    if response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR:
        response.data = {"detail": "Something went wrong on our side.", "code": "server_error"}
    return response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "No such endpoint or object.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


def server_failure(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side.", "code": "server_error"}, status=500)
    return server_error(request)
