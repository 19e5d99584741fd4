"""Validation of the pre-chat form: fixed fields, the brand's category list and its
custom fields, with identity-token fields prefilled and locked."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from knowledge.models import Category

from .identity import Identity
from .models import CustomField

MAX_NAME = 120
MAX_SUMMARY = 2000
MAX_PRODUCT_ID = 120
MAX_FIELD_VALUE = 500


class PrechatInvalid(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Prechat:
    name: str
    email: str
    customer_id: str
    category: Category
    summary: str
    product_id: str
    custom_fields: dict
    identity_verified: bool


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, bool)):
        return "\x00invalid"
    return str(value).strip()


def _custom_value(field: CustomField, raw) -> tuple[object, str | None]:
    if field.field_type == CustomField.FieldType.CHECKBOX:
        checked = raw in (True, "true", "on", "1", 1, "yes")
        if field.required and not checked:
            return checked, "Please tick this box to continue."
        return checked, None
    value = "" if raw is None else str(raw).strip()
    if not value:
        return "", ("This field is required." if field.required else None)
    if len(value) > MAX_FIELD_VALUE:
        return value, f"Keep it under {MAX_FIELD_VALUE} characters."
    if field.field_type == CustomField.FieldType.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return value, "Enter a valid email address."
    if field.field_type == CustomField.FieldType.NUMBER:
        try:
            float(value)
        except ValueError:
            return value, "Enter a number."
    if field.field_type == CustomField.FieldType.SELECT and value not in field.choices:
        return value, "Choose one of the options."
    if field.pattern:
        try:
            matches = re.fullmatch(field.pattern, value) is not None
        except re.error:
            matches = True  # a broken pattern in the brand's settings must not lock customers out
        if not matches:
            return value, field.help_text or "This doesn't look right; check the format."
    return value, None


def prechat_validate(*, data: dict, identity: Identity | None) -> Prechat:
    """Validate a submitted pre-chat form. Raises PrechatInvalid with an error per field."""
    errors: dict[str, str] = {}
    if identity is not None:
        # Fields the brand vouched for win over whatever the page sent.
        data = {**data, **{k: v for k, v in {"name": identity.name, "email": identity.email, "customer_id": identity.customer_id}.items() if v}}
    name = _text(data, "name")
    email = _text(data, "email")
    customer_id = _text(data, "customer_id")
    summary = _text(data, "summary")
    product_id = _text(data, "product_id")
    category_slug = _text(data, "category")

    if not name:
        errors["name"] = "Tell us your name."
    elif len(name) > MAX_NAME or "\x00" in name:
        errors["name"] = f"Keep your name under {MAX_NAME} characters."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid email address so we can reach you." if email else "Enter your email address."
    if len(customer_id) > MAX_NAME or "\x00" in customer_id:
        errors["customer_id"] = f"Keep the customer ID under {MAX_NAME} characters."
    if not summary:
        errors["summary"] = "Describe your problem in a few words."
    elif len(summary) > MAX_SUMMARY or "\x00" in summary:
        errors["summary"] = f"Keep the description under {MAX_SUMMARY} characters."
    if len(product_id) > MAX_PRODUCT_ID or "\x00" in product_id:
        errors["product_id"] = f"Keep the product ID under {MAX_PRODUCT_ID} characters."
    # A non-text category comes back from _text as "\x00invalid": PostgreSQL refuses NUL in
    # a query parameter (a 500), so such a slug is never looked up.
    category = Category.objects.filter(slug=category_slug, is_active=True).first() if category_slug and "\x00" not in category_slug else None
    if category is None:
        errors["category"] = "Choose what your question is about." if not category_slug else "Choose one of the listed topics."

    submitted = data.get("custom_fields") or {}
    if not isinstance(submitted, dict):
        submitted = {}
    if identity is not None:
        submitted = {**submitted, **identity.fields}
    custom_values = {}
    for field in CustomField.objects.filter(is_active=True):
        value, error = _custom_value(field, submitted.get(field.key))
        custom_values[field.key] = value
        if error:
            errors[f"custom_fields.{field.key}"] = error

    if errors:
        raise PrechatInvalid(errors)
    return Prechat(
        name=name, email=email.lower(), customer_id=customer_id, category=category, summary=summary,
        product_id=product_id, custom_fields=custom_values, identity_verified=identity is not None,
    )
