"""Every API error is JSON with a human `detail` (and field errors where there are some)."""

from rest_framework import status
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        return response
    if isinstance(data, dict):
        # Field errors: keep them by field and add a summary a person can read.
        first_field, first_errors = next(iter(data.items()))
        first = first_errors[0] if isinstance(first_errors, list) and first_errors else first_errors
        detail = str(first) if first_field == "non_field_errors" else f"{first_field}: {first}"
        response.data = {"detail": detail, "errors": data}
    elif isinstance(data, list):
        response.data = {"detail": " ".join(str(item) for item in data)}
    if response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR:
        response.data = {"detail": "Something went wrong on our side."}
    return response

