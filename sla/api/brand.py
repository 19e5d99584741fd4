"""The brand API's service levels (/api/v1/sla-policies, /api/v1/holidays, /api/v1/sla-events
on a brand host, brand API keys): the brand's SLA policies and holidays (settings scope),
and the breaches the sweep recorded (conversations scope, read only). Runs in the brand's
schema (the host middleware entered it); writes go through sla.services, which validates
with full_clean."""

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, generics, serializers

from sla import services
from sla.models import Holiday, SlaEvent, SlaKind, SlaPolicy
from tenants.api.conventions import (
    IDEMPOTENCY_PARAMETER,
    BrandAPIMixin,
    UTCDateTimeFilter,
)
from tenants.models import BrandAPIKey

# knowledge sits on a floor beside sla: its Category reached through the foreign key.
Category = SlaPolicy._meta.get_field("category").related_model


def _invalid(exc: services.SlaSettingsInvalid) -> exceptions.ValidationError:
    return exceptions.ValidationError(exc.errors)


class SlaPolicyOut(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False,
        help_text="A category slug; null (or left out) for the brand's default policy.",
    )
    queue_wait_seconds = serializers.IntegerField(min_value=1, max_value=30 * 86400, allow_null=True, required=False, help_text="Longest wait in the queue; null for no target.")
    first_reply_seconds = serializers.IntegerField(min_value=1, max_value=30 * 86400, allow_null=True, required=False, help_text="First agent reply, counted from assignment.")
    next_reply_seconds = serializers.IntegerField(min_value=1, max_value=30 * 86400, allow_null=True, required=False, help_text="Answer to each later customer message.")

    class Meta:
        model = SlaPolicy
        fields = ["id", "category", "queue_wait_seconds", "first_reply_seconds", "next_reply_seconds", "warn_at_percent", "business_hours_only"]
        read_only_fields = ["id"]
        # The one-per-category rule is the service's full_clean (a 400 with the field).
        validators: list = []


class HolidayOut(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]
        read_only_fields = ["id"]
        extra_kwargs = {"date": {"validators": []}}  # uniqueness: the service's full_clean


class SlaEventOut(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = SlaEvent
        fields = ["id", "conversation_id", "kind", "started_at", "due_at", "breached_at", "agent_id"]


class SlaEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SlaKind.choices)
    breached_after = UTCDateTimeFilter(field_name="breached_at", lookup_expr="gte")
    breached_before = UTCDateTimeFilter(field_name="breached_at", lookup_expr="lt")
    conversation = django_filters.NumberFilter(field_name="conversation_id", help_text="A conversation id.")
    agent = django_filters.NumberFilter(field_name="agent_id", help_text="An agent id (GET /api/v1/agents).")

    class Meta:
        model = SlaEvent
        fields = ["kind"]


class SlaSettingsAPIMixin(BrandAPIMixin):
    resource = BrandAPIKey.Resource.SETTINGS


POLICY_EXAMPLE = {"category": None, "queue_wait_seconds": 120, "first_reply_seconds": 60, "next_reply_seconds": 300, "warn_at_percent": 80, "business_hours_only": False}


class SlaPolicyListView(SlaSettingsAPIMixin, generics.ListCreateAPIView):
    serializer_class = SlaPolicyOut
    queryset = SlaPolicy.objects.select_related("category")
    filterset_fields = ["business_hours_only"]
    ordering_fields = ["id"]
    ordering = ["id"]

    @extend_schema(
        request=SlaPolicyOut, parameters=[IDEMPOTENCY_PARAMETER], responses={201: SlaPolicyOut},
        examples=[OpenApiExample("The brand's default", value=POLICY_EXAMPLE, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        try:
            serializer.instance = services.sla_policy_create(**serializer.validated_data)
        except services.SlaSettingsInvalid as exc:
            raise _invalid(exc) from None


class SlaPolicyDetailView(SlaSettingsAPIMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = SlaPolicyOut
    queryset = SlaPolicy.objects.select_related("category")
    lookup_url_kwarg = "policy_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        try:
            serializer.instance = services.sla_policy_update(policy=serializer.instance, changes=serializer.validated_data)
        except services.SlaSettingsInvalid as exc:
            raise _invalid(exc) from None

    def perform_destroy(self, instance):
        services.sla_policy_delete(policy=instance)


class HolidayListView(SlaSettingsAPIMixin, generics.ListCreateAPIView):
    """Days business-hours policies do not count."""

    serializer_class = HolidayOut
    queryset = Holiday.objects.all()
    filterset_fields = ["date"]
    ordering_fields = ["date", "id"]
    ordering = ["date"]

    @extend_schema(
        request=HolidayOut, parameters=[IDEMPOTENCY_PARAMETER], responses={201: HolidayOut},
        examples=[OpenApiExample("A holiday", value={"date": "2026-12-25", "name": "Christmas"}, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        try:
            serializer.instance = services.holiday_create(**serializer.validated_data)
        except services.SlaSettingsInvalid as exc:
            raise _invalid(exc) from None


class HolidayDetailView(SlaSettingsAPIMixin, generics.DestroyAPIView):
    serializer_class = HolidayOut
    queryset = Holiday.objects.all()
    lookup_url_kwarg = "holiday_id"

    def perform_destroy(self, instance):
        services.holiday_delete(holiday=instance)


class SlaEventListView(BrandAPIMixin, generics.ListAPIView):
    """Breaches, one per missed promise, newest first."""

    resource = BrandAPIKey.Resource.CONVERSATIONS
    serializer_class = SlaEventOut
    queryset = SlaEvent.objects.all()
    filterset_class = SlaEventFilter
    ordering_fields = ["breached_at", "due_at", "id"]
    ordering = ["-breached_at"]
