"""The brand API's webhooks (/api/v1/webhook-subscriptions on a brand host, brand API keys,
settings scope): subscriptions (the URL checked by the same destination guard as the
brand admin's form), each one's delivery log, and a test event. Runs in the brand's
schema (the host middleware entered it); writes go through webhooks.services.

The signing secret is in the answer to the create only: after that it is the brand's to
keep (it is still in the brand admin)."""

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from tenants.api.conventions import (
    IDEMPOTENCY_PARAMETER,
    BrandAPIMixin,
    UTCDateTimeFilter,
)
from tenants.models import BrandAPIKey
from webhooks import services
from webhooks.destinations import DestinationRefused, destination_resolve
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription

# webhook.test is sent on request only; nobody subscribes to it.
SUBSCRIBABLE = [(value, label) for value, label in WebhookEvent.choices if value != WebhookEvent.TEST]


class WebhookSubscriptionOut(serializers.ModelSerializer):
    url = serializers.URLField(max_length=500, help_text="An http(s) URL on the public internet; private, loopback and metadata addresses are refused (400).")
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1, max_length=len(SUBSCRIBABLE), help_text="The events sent to this URL.")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "failing_since", "created_at"]
        read_only_fields = ["id", "failing_since", "created_at"]

    def validate_url(self, url: str) -> str:
        # The admin form's check (webhooks.admin.SubscriptionForm): every address the host
        # resolves to must be public. Delivery checks again, against DNS rebinding.
        try:
            destination_resolve(url)
        except DestinationRefused as exc:
            raise serializers.ValidationError(exc.detail, code="destination_refused") from None
        return url

    def validate_events(self, events: list[str]) -> list[str]:
        return list(dict.fromkeys(events))  # each once, in the order given


class WebhookSubscriptionCreatedOut(WebhookSubscriptionOut):
    secret = serializers.CharField(read_only=True, help_text="Signs every body (HMAC-SHA256). Shown in this answer only: keep it.")

    class Meta(WebhookSubscriptionOut.Meta):
        fields = [*WebhookSubscriptionOut.Meta.fields, "secret"]
        read_only_fields = [*WebhookSubscriptionOut.Meta.read_only_fields, "secret"]


class WebhookAttemptOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "latency_ms", "response_head", "error"]


class WebhookDeliveryOut(serializers.ModelSerializer):
    attempts_log = WebhookAttemptOut(source="log", many=True, read_only=True, help_text="Every try, oldest first, with what the receiver answered.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "conversation_id", "sequence", "state", "attempts", "uncertain_attempts", "next_attempt_at", "created_at", "delivered_at", "attempts_log"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=WebhookDelivery.State.choices)
    event_type = django_filters.ChoiceFilter(choices=WebhookEvent.choices)
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event_type"]


class WebhookAPIMixin(BrandAPIMixin):
    resource = BrandAPIKey.Resource.SETTINGS


SUBSCRIPTION_EXAMPLE = {"url": "https://crm.example.com/hooks/helpdesk", "events": ["conversation.ended", "sla.breached"]}


class WebhookSubscriptionListView(WebhookAPIMixin, generics.ListCreateAPIView):
    serializer_class = WebhookSubscriptionOut
    queryset = WebhookSubscription.objects.all()
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "id"]
    ordering = ["id"]

    @extend_schema(
        request=WebhookSubscriptionOut, parameters=[IDEMPOTENCY_PARAMETER], responses={201: WebhookSubscriptionCreatedOut},
        examples=[OpenApiExample("A subscription", value=SUBSCRIPTION_EXAMPLE, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self._create(request))

    def _create(self, request):
        serializer = WebhookSubscriptionOut(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_create(url=serializer.validated_data["url"], events=serializer.validated_data["events"])
        if serializer.validated_data.get("is_active") is False:
            subscription = services.webhook_subscription_update(subscription=subscription, changes={"is_active": False})
        return Response(WebhookSubscriptionCreatedOut(subscription).data, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailView(WebhookAPIMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = WebhookSubscriptionOut
    queryset = WebhookSubscription.objects.all()
    lookup_url_kwarg = "subscription_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = services.webhook_subscription_update(subscription=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        services.webhook_subscription_delete(subscription=instance)


class WebhookDeliveryListView(WebhookAPIMixin, generics.ListAPIView):
    """One subscription's deliveries, newest first, each with its attempts."""

    serializer_class = WebhookDeliveryOut
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        subscription = generics.get_object_or_404(WebhookSubscription.objects.all(), pk=self.kwargs["subscription_id"])
        return WebhookDelivery.objects.filter(subscription=subscription).prefetch_related("log")


class WebhookTestView(WebhookAPIMixin, generics.GenericAPIView):
    """A real, signed webhook.test delivery to the subscription (as the admin's action);
    202: it is queued, its fate is in the delivery log."""

    serializer_class = WebhookDeliveryOut
    queryset = WebhookSubscription.objects.all()
    lookup_url_kwarg = "subscription_id"
    pagination_class = None
    filter_backends: list = []

    @extend_schema(request=None, responses={202: WebhookDeliveryOut})
    def post(self, request, subscription_id):
        delivery = services.webhook_test_send(subscription=self.get_object())
        delivery.refresh_from_db()
        return Response(WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)
