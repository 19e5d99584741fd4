"""The brand API's business hours (/api/v1/business-hours on a brand host): the brand row
in the public schema, read and replaced with a brand API key."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from tenants.api.conventions import BrandAPIMixin
from tenants.models import Brand, BrandAPIKey
from tenants.services import BrandError, brand_business_hours_set

HOURS_EXAMPLE = {"time_zone": "Europe/Berlin", "business_hours": {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}}


class BusinessHoursOut(serializers.Serializer):
    time_zone = serializers.CharField(read_only=True, help_text="The brand's time zone (set by the account manager).")
    business_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)),
        help_text='Per weekday (mon..sun), ["HH:MM", "HH:MM"] intervals; an empty object means always open.',
    )


class BusinessHoursView(BrandAPIMixin, generics.GenericAPIView):
    resource = BrandAPIKey.Resource.SETTINGS
    serializer_class = BusinessHoursOut
    pagination_class = None
    filter_backends: list = []
    domain_errors = (BrandError,)

    def _answer(self, brand: Brand):
        return Response({"time_zone": brand.time_zone, "business_hours": brand.business_hours})

    @extend_schema(responses={200: BusinessHoursOut}, examples=[OpenApiExample("Hours", value=HOURS_EXAMPLE, response_only=True)])
    def get(self, request):
        return self._answer(self.brand)

    @extend_schema(request=BusinessHoursOut, responses={200: BusinessHoursOut})
    def put(self, request):
        data = BusinessHoursOut(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(brand_business_hours_set(brand=self.brand, business_hours=data.validated_data["business_hours"]))
