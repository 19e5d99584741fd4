"""The brand API's survey responses (/api/v1/survey-responses on a brand host, brand API
keys): answered CSAT surveys, filtered by answer date, rating and agent. Brand schema."""

import django_filters
from rest_framework import generics, serializers

from surveys.models import Survey
from tenants.api.conventions import BrandAPIMixin, UTCDateTimeFilter
from tenants.models import BrandAPIKey


class SurveyResponseOut(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = ["id", "conversation", "agent_id", "rating", "comment", "requested_at", "answered_at", "answered_via"]


class SurveyResponseFilter(django_filters.FilterSet):
    answered_after = UTCDateTimeFilter(field_name="answered_at", lookup_expr="gte")
    answered_before = UTCDateTimeFilter(field_name="answered_at", lookup_expr="lt")
    rating = django_filters.NumberFilter(field_name="rating")
    rating_min = django_filters.NumberFilter(field_name="rating", lookup_expr="gte")
    rating_max = django_filters.NumberFilter(field_name="rating", lookup_expr="lte")
    agent = django_filters.NumberFilter(field_name="agent_id", help_text="An agent id (GET /api/v1/agents).")

    class Meta:
        model = Survey
        fields = ["rating", "agent"]


class SurveyResponseListView(BrandAPIMixin, generics.ListAPIView):
    """Answered surveys only: an unanswered one is not a response yet."""

    resource = BrandAPIKey.Resource.SURVEYS
    serializer_class = SurveyResponseOut
    filterset_class = SurveyResponseFilter
    ordering_fields = ["answered_at", "rating", "id"]
    ordering = ["-answered_at"]

    def get_queryset(self):
        return Survey.objects.filter(answered_at__isnull=False)
