"""Report figures through the integration APIs: a brand's report on its brand host with a
brand API key (conversations scope), and agent time across brands on the platform API for
account managers. The same selectors as the report pages (chat.reports, chat.billing)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chat.billing import agent_time_report
from chat.report_periods import ReportError, period_parse
from chat.reports import brand_report
from helpdesk.api.platform import PlatformAPIMixin
from tenants.api.conventions import BrandAPIMixin
from tenants.models import Brand, BrandAPIKey

PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First local day of the period."),
    OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last local day of the period (at most 400 days)."),
    OpenApiParameter("tz", str, description="IANA time zone of the days (default UTC)."),
]


def _period(request):
    try:
        return period_parse(first_day=request.query_params.get("from"), last_day=request.query_params.get("to"), time_zone=request.query_params.get("tz") or "UTC")
    except ReportError as exc:
        raise ValidationError({"detail": str(exc)}, code="bad_period") from None


class BrandReportView(BrandAPIMixin, generics.GenericAPIView):
    """Every figure of the brand's report for a period (docs/reports.md)."""

    resource = BrandAPIKey.Resource.CONVERSATIONS

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(brand_report(brand=self.brand, period=_period(request)))


class AgentTimeReportView(PlatformAPIMixin, generics.GenericAPIView):
    """Billable agent time per agent and brand, logged-in time, occupancy and the invoice
    summary per brand, across every brand (or those named in `brand`)."""

    @extend_schema(
        parameters=[*PERIOD_PARAMETERS, OpenApiParameter("brand", str, many=True, description="Brand slugs; all brands when absent.")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        period = _period(request)
        brands = Brand.objects.exclude(schema_name="public")
        slugs = request.query_params.getlist("brand")
        if slugs:
            brands = brands.filter(slug__in=slugs)
        return Response(agent_time_report(brands=list(brands), period=period))
