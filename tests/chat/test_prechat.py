import pytest
from django_tenants.utils import schema_context

from chat.identity import identity_sign
from chat.models import Conversation, CustomField, Message
from tests.chat.helpers import conversation_active
from tests.factories import AgentFactory, StaffingFactory, UserFactory

BRAND = {"HTTP_HOST": "alpha.localhost"}
FORM = {"name": "Dana", "email": "dana@example.com", "customer_id": "", "category": "shipping", "summary": "Parcel late", "product_id": ""}
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def post(client, data):
    return client.post("/api/widget/v1/conversations", data, content_type="application/json", **BRAND)


@pytest.fixture
def custom_fields(alpha):
    with schema_context(alpha.schema_name):
        CustomField.objects.create(key="order_number", label="Order number", pattern=r"AC-\d{6}", help_text="Looks like AC-123456.")
        CustomField.objects.create(key="country", label="Country", field_type="select", required=True, choices=["Germany", "France"])
        CustomField.objects.create(key="terms", label="I accept", field_type="checkbox")


@pytest.mark.django_db
def test_each_invalid_field_gets_its_own_error(client, custom_fields):
    response = post(client, {"name": "", "email": "nope", "category": "warranty", "summary": "", "custom_fields": {"order_number": "123", "country": "Mars"}})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"name", "email", "category", "summary", "custom_fields.order_number", "custom_fields.country"}
    assert errors["custom_fields.order_number"] == "Looks like AC-123456."
    assert response.json()["detail"]


@pytest.mark.django_db
def test_another_brands_category_is_not_accepted(client):
    response = post(client, {**FORM, "category": "setup"})  # beta's category
    assert response.status_code == 400 and "category" in response.json()["errors"]


@pytest.mark.django_db
def test_valid_form_with_custom_fields_is_stored(client, alpha, custom_fields):
    response = post(client, {**FORM, "custom_fields": {"order_number": "AC-123456", "country": "France", "terms": True}})
    assert response.status_code == 201, response.content
    with schema_context(alpha.schema_name):
        conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.custom_fields == {"order_number": "AC-123456", "country": "France", "terms": True}
    assert conversation.identity_verified is False


@pytest.mark.django_db
def test_identity_token_prefills_and_wins_over_the_form(client, alpha, custom_fields):
    token = identity_sign(secret=alpha.identity_secret, name="Verified Vera", email="vera@example.com", customer_id="CUST-42", fields={"country": "Germany"})
    config = client.get("/api/widget/v1/config", {"identity": token}, **BRAND).json()
    assert config["identity"] == {"name": "Verified Vera", "email": "vera@example.com", "customer_id": "CUST-42", "fields": {"country": "Germany"}}

    response = post(client, {**FORM, "name": "Impostor", "email": "evil@example.com", "identity": token, "custom_fields": {"country": "France"}})
    assert response.status_code == 201, response.content
    with schema_context(alpha.schema_name):
        conversation = Conversation.objects.get(pk=response.json()["id"])
    assert (conversation.customer_name, conversation.customer_email, conversation.customer_external_id) == ("Verified Vera", "vera@example.com", "CUST-42")
    assert conversation.custom_fields["country"] == "Germany"
    assert conversation.identity_verified


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_token, message",
    [
        (lambda brand: identity_sign(secret="wrong-secret", name="X", email="x@example.com"), "could not verify"),
        (lambda brand: identity_sign(secret=brand.identity_secret, name="X", email="x@example.com", ttl_seconds=-10), "expired"),
        (lambda brand: "garbage", "malformed"),
    ],
)
def test_bad_or_expired_identity_token_gets_a_clear_message(client, alpha, beta, make_token, message):
    token = make_token(alpha)
    config = client.get("/api/widget/v1/config", {"identity": token}, **BRAND)
    assert config.status_code == 400 and message in config.json()["detail"]
    response = post(client, {**FORM, "identity": token})
    assert response.status_code == 400 and response.json()["code"] == "bad_identity"


@pytest.mark.django_db
def test_another_brands_identity_token_is_refused(client, beta):
    token = identity_sign(secret=beta.identity_secret, name="X", email="x@example.com")
    assert post(client, {**FORM, "identity": token}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_hostile_strings_render_as_text_in_the_brand_admin(client, alpha, custom_fields):
    agent = AgentFactory()
    StaffingFactory(agent=agent, brand=alpha)
    _, conversation, _ = conversation_active(agent=agent, name=HOSTILE, summary=HOSTILE, custom_fields={"order_number": "", "country": "France"})
    with schema_context(alpha.schema_name):
        from chat.messages import message_send

        message_send(conversation_id=conversation.id, sender="customer", body=HOSTILE)
        assert Message.objects.filter(body=HOSTILE).exists()
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    for url in ["/admin/chat/conversation/", f"/admin/chat/conversation/{conversation.id}/change/"]:
        page = client.get(url, **BRAND)
        assert page.status_code == 200
        html = page.content.decode()
        assert "<script>alert(2)</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
