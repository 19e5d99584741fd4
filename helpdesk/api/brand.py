"""The brand API's agents (/api/v1/agents on a brand host): who is staffed on the brand.
Public schema (staffing), filtered to the host's brand."""

from rest_framework import generics, serializers

from helpdesk.models import Staffing
from tenants.api.conventions import BrandAPIMixin
from tenants.models import BrandAPIKey


class StaffedAgentOut(serializers.ModelSerializer):
    agent_id = serializers.IntegerField(source="agent.id")
    display_name = serializers.CharField(source="agent.display_name")
    max_concurrent_chats = serializers.IntegerField(source="agent.max_concurrent_chats")

    class Meta:
        model = Staffing
        fields = ["agent_id", "display_name", "role", "categories", "max_concurrent_chats", "created_at"]


class StaffedAgentListView(BrandAPIMixin, generics.ListAPIView):
    resource = BrandAPIKey.Resource.SETTINGS
    serializer_class = StaffedAgentOut
    filterset_fields = ["role"]
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no brand
            return Staffing.objects.none()
        return Staffing.objects.filter(brand=self.brand).select_related("agent")
