"""OpenAPI post-processing (drf-spectacular POSTPROCESSING_HOOKS): every operation of the
APIs documents the error answers it can give, in the one shape config.api_errors makes,
so a client generated from the schema, and the schema fuzz test, know them."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "For people."},
        "code": {"type": "string", "description": "For programs, e.g. not_found, invalid, scope_missing, throttled."},
        "errors": {"type": "object", "additionalProperties": True, "description": "Field errors, by field."},
    },
    "required": ["detail", "code"],
    "example": {"detail": "This key has no write access to articles.", "code": "scope_missing"},
}

ERRORS = {
    "400": "Invalid input: `code` is `invalid` (with `errors` by field) or a domain code.",
    "401": "No credentials, or a wrong, revoked or expired key or token.",
    "403": "Authenticated, but the key's scopes or the user's role do not allow this.",
    "404": "No such object, or one of another brand (the same answer).",
    "405": "Method not allowed.",
    "409": "The object's state does not allow this (e.g. a message in an ended chat).",
    "413": "The request body is over the size limit.",
    "415": "Send application/json.",
    "422": "The Idempotency-Key was used for a different request.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}
INTEGRATION_PREFIXES = ("/api/v1/", "/api/platform/v1/", "/api/agent/v1/")


def error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(INTEGRATION_PREFIXES):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                if status in responses:
                    continue
                answer = {"description": description, "content": error}
                if status == "429":
                    answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
                responses[status] = answer
    return result
