"""Validation of the pre-chat form: fixed fields, the brand's category list and its
custom fields, with identity-token fields prefilled and locked. The brand says which fixed
fields are asked and which of them are optional (Brand.prechat_fields); the question is
always asked. Runs in the brand's schema."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from knowledge.models import Category
from tenants.models import PrechatAsk, default_prechat_fields

from .identity import Identity
from .models import CustomField

MAX_NAME = 120
MAX_SUMMARY = 2000
MAX_PRODUCT_ID = 120
MAX_FIELD_VALUE = 500
# The name shown to agents when the brand does not ask for one, or the customer left it out.
ANONYMOUS_NAME = "Guest"


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
            return checked, _("Please tick this box to continue.")
        return checked, None
    value = "" if raw is None else str(raw).strip()
    if not value:
        return "", (_("This field is required.") if field.required else None)
    if len(value) > MAX_FIELD_VALUE:
        return value, _("Keep it under %(max)s characters.") % {"max": MAX_FIELD_VALUE}
    if field.field_type == CustomField.FieldType.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return value, _("Enter a valid email address.")
    if field.field_type == CustomField.FieldType.NUMBER:
        try:
            float(value)
        except ValueError:
            return value, _("Enter a number.")
    if field.field_type == CustomField.FieldType.SELECT and value not in field.choices:
        return value, _("Choose one of the options.")
    if field.pattern:
        try:
            matches = re.fullmatch(field.pattern, value) is not None
        except re.error:
            matches = True  # a broken pattern in the brand's settings must not lock customers out
        if not matches:
            return value, field.help_text or _("This doesn't look right; check the format.")
    return value, None


def prechat_asks(asks: dict | None) -> dict[str, str]:
    """Each fixed field's PrechatAsk, the brand's choice over the defaults (a field it
    did not mention is optional)."""
    merged = {key: PrechatAsk.OPTIONAL for key in default_prechat_fields()}
    merged.update({key: value for key, value in (asks or default_prechat_fields()).items() if key in merged and value in PrechatAsk.values})
    return merged


def prechat_validate(*, data: dict, identity: Identity | None, asks: dict | None = None) -> Prechat:
    """Validate a submitted pre-chat form against the brand's `asks` (Brand.prechat_fields).
    Raises PrechatInvalid with an error per field."""
    asks = prechat_asks(asks)
    errors: dict[str, str] = {}
    if identity is not None:
        # Fields the brand vouched for win over whatever the page sent.
        data = {**data, **{k: v for k, v in {"name": identity.name, "email": identity.email, "customer_id": identity.customer_id}.items() if v}}
    hidden = {key for key, ask in asks.items() if ask == PrechatAsk.HIDDEN}
    data = {key: value for key, value in data.items() if key not in hidden or (identity is not None and key in ("name", "email", "customer_id"))}
    name = _text(data, "name")
    email = _text(data, "email")
    customer_id = _text(data, "customer_id")
    summary = _text(data, "summary")
    product_id = _text(data, "product_id")
    category_slug = _text(data, "category")

    if not name:
        if asks["name"] == PrechatAsk.REQUIRED:
            errors["name"] = _("Tell us your name.")
    elif len(name) > MAX_NAME or "\x00" in name:
        errors["name"] = _("Keep your name under %(max)s characters.") % {"max": MAX_NAME}
    if email or asks["email"] == PrechatAsk.REQUIRED:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid email address so we can reach you.") if email else _("Enter your email address.")
    if not customer_id and asks["customer_id"] == PrechatAsk.REQUIRED:
        errors["customer_id"] = _("Enter your customer ID.")
    elif len(customer_id) > MAX_NAME or "\x00" in customer_id:
        errors["customer_id"] = _("Keep the customer ID under %(max)s characters.") % {"max": MAX_NAME}
    if not summary:
        errors["summary"] = _("Describe your problem in a few words.")
    elif len(summary) > MAX_SUMMARY or "\x00" in summary:
        errors["summary"] = _("Keep the description under %(max)s characters.") % {"max": MAX_SUMMARY}
    if not product_id and asks["product_id"] == PrechatAsk.REQUIRED:
        errors["product_id"] = _("Enter the product ID.")
    elif len(product_id) > MAX_PRODUCT_ID or "\x00" in product_id:
        errors["product_id"] = _("Keep the product ID under %(max)s characters.") % {"max": MAX_PRODUCT_ID}
    # A non-text category comes back from _text as "\x00invalid": PostgreSQL refuses NUL in
    # a query parameter (a 500), so such a slug is never looked up.
    category = Category.objects.filter(slug=category_slug, is_active=True).first() if category_slug and "\x00" not in category_slug else None
    if category is None and category_slug:
        errors["category"] = _("Choose one of the listed topics.")
    elif category is None and asks["category"] == PrechatAsk.REQUIRED:
        errors["category"] = _("Choose what your question is about.")
    elif category is None:
        # Not asked, or left out: the brand's first topic, so routing still has one.
        category = Category.objects.filter(is_active=True).order_by("position", "id").first()
        if category is None:
            errors["category"] = _("This brand has no topics to chat about yet.")

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
        name=name or ANONYMOUS_NAME, email=email.lower(), customer_id=customer_id, category=category, summary=summary,
        product_id=product_id, custom_fields=custom_values, identity_verified=identity is not None,
    )
