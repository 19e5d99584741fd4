"""The platform API (/api/platform/v1/ on the platform host) for account managers' tools:
brands (create, update, suspend, reactivate), their domains, staffing, agents, and
brand API keys. Public schema.

Staff tokens are helpdesk.AgentToken rows (the same sha256-hashed, shown-once token),
issued by POST auth/token to an account manager: an active staff user in the account
manager group, or a superuser. Every other user's token is refused with 403.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import (
    authentication,
    exceptions,
    generics,
    permissions,
    serializers,
)
from rest_framework.response import Response

from helpdesk.models import AgentProfile, AgentToken, Staffing, User
from helpdesk.selectors import agent_token_user
from helpdesk.services import (
    ACCOUNT_MANAGER_GROUP,
    agent_upsert,
    staffing_upsert,
    user_upsert,
)
from tenants.api.conventions import (
    IDEMPOTENCY_PARAMETER,
    APIConventions,
)
from tenants.models import Brand, BrandAPIKey, Domain
from tenants.services import (
    BrandError,
    api_key_issue,
    api_key_revoke,
    brand_create,
    brand_set_status,
    brand_update,
    domain_add,
    domain_remove,
)


def is_account_manager(user) -> bool:
    if user is None or not user.is_active or not user.is_staff:
        return False
    return user.is_superuser or user.groups.filter(name=ACCOUNT_MANAGER_GROUP).exists()


class StaffTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        parts = request.headers.get("Authorization", "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        user = agent_token_user(raw=parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.", code="bad_token")
        return user, parts[1]

    def authenticate_header(self, request):
        return "Bearer"


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.platform.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A staff token from POST /api/platform/v1/auth/token (account managers)."}


class IsAccountManager(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.user is None:
            raise exceptions.NotAuthenticated("Send a staff token: Authorization: Bearer <token>.", code="not_authenticated")
        if not is_account_manager(request.user):
            raise exceptions.PermissionDenied("Account managers only.", code="not_account_manager")
        return True


class PlatformAPIMixin(APIConventions):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [IsAccountManager]
    domain_errors = (BrandError,)

    def caller_id(self, request):
        user = request.user
        return f"staff:{user.pk}" if user is not None else None

    def handle_exception(self, exc):
        if isinstance(exc, ValidationError):
            field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("detail", exc.messages)
            return Response({"detail": f"{field}: {messages[0]}", "code": "invalid", "errors": {field: messages}}, status=400)
        return super().handle_exception(exc)


class BrandScopedMixin(PlatformAPIMixin):
    """For brands/<slug>/...: the brand, or the same 404 for a missing one."""

    brand: Brand | None = None  # None only while the schema is generated: empty querysets

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.brand = Brand.objects.exclude(schema_name="public").filter(slug=kwargs.get("brand")).first()
        if self.brand is None:
            raise exceptions.NotFound("No such brand.")


# --- tokens ------------------------------------------------------------------------


class StaffTokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    label = serializers.CharField(max_length=80, required=False, default="platform")


class StaffTokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; only its hash is stored.")
    username = serializers.CharField()


class TokenCreateView(PlatformAPIMixin, generics.GenericAPIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []  # the per-IP throttle runs before authentication, for every view
    serializer_class = StaffTokenInput
    pagination_class = None
    filter_backends: list = []

    def caller_id(self, request):
        return None

    @extend_schema(request=StaffTokenInput, responses={201: StaffTokenOut})
    def post(self, request):
        data = StaffTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["username"]).first()
        if user is None or not user.check_password(data.validated_data["password"]) or not is_account_manager(user):
            return Response({"detail": "Wrong username or password, or not an account manager.", "code": "bad_credentials"}, status=401)
        _, raw = AgentToken.issue(user=user, label=data.validated_data["label"])
        return Response({"token": raw, "username": user.username}, status=201)


# --- brands ------------------------------------------------------------------------


class BrandOut(serializers.ModelSerializer):
    domains = serializers.SlugRelatedField(slug_field="domain", many=True, read_only=True)

    class Meta:
        model = Brand
        fields = ["id", "slug", "name", "status", "plan", "primary_color", "locale", "time_zone", "business_hours", "routing_policy", "offer_timeout_seconds", "max_queue_length", "domains", "created_at"]
        read_only_fields = ["id", "status", "domains", "created_at"]


class BrandUpdateInput(BrandOut):
    class Meta(BrandOut.Meta):
        read_only_fields = [*BrandOut.Meta.read_only_fields, "slug"]


class BrandListView(PlatformAPIMixin, generics.ListCreateAPIView):
    serializer_class = BrandOut
    filterset_fields = ["status", "plan"]
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return Brand.objects.exclude(schema_name="public").prefetch_related("domains")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BrandOut},
        examples=[OpenApiExample("A brand", value={"slug": "acme", "name": "Acme", "plan": "growth", "time_zone": "Europe/Berlin"}, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        serializer.instance = brand_create(name=fields.pop("name"), slug=fields.pop("slug"), **fields).brand

    def idempotent(self, request, create, *, brand=None, atomic: bool = True):
        # A brand's schema is created and cloned on commits of its own: no outer transaction.
        return super().idempotent(request, create, brand=brand, atomic=False)


class BrandDetailView(BrandScopedMixin, generics.GenericAPIView):
    serializer_class = BrandUpdateInput
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: BrandOut})
    def get(self, request, brand):
        return Response(BrandOut(self.brand).data)

    @extend_schema(request=BrandUpdateInput, responses={200: BrandOut})
    def patch(self, request, brand):
        data = BrandUpdateInput(self.brand, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(BrandOut(brand_update(brand=self.brand, changes=data.validated_data)).data)


class BrandSuspendView(BrandScopedMixin, generics.GenericAPIView):
    serializer_class = BrandOut
    pagination_class = None
    filter_backends: list = []
    new_status = Brand.Status.SUSPENDED

    @extend_schema(request=None, responses={200: BrandOut})
    def post(self, request, brand):
        brand_set_status(brand_ids=[self.brand.id], status=self.new_status)
        self.brand.refresh_from_db()
        return Response(BrandOut(self.brand).data)


class BrandReactivateView(BrandSuspendView):
    new_status = Brand.Status.ACTIVE


# --- domains -----------------------------------------------------------------------


class DomainOut(serializers.ModelSerializer):
    class Meta:
        model = Domain
        fields = ["id", "domain", "is_primary"]
        read_only_fields = ["id", "is_primary"]


class DomainListView(BrandScopedMixin, generics.ListCreateAPIView):
    serializer_class = DomainOut
    filterset_fields = ["is_primary"]
    ordering_fields = ["domain", "id"]
    ordering = ["id"]

    def get_queryset(self):
        return Domain.objects.filter(tenant=self.brand)

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], responses={201: DomainOut})
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = domain_add(brand=self.brand, domain=serializer.validated_data["domain"])


class DomainDetailView(BrandScopedMixin, generics.DestroyAPIView):
    serializer_class = DomainOut
    lookup_url_kwarg = "domain_id"

    def get_queryset(self):
        return Domain.objects.filter(tenant=self.brand)

    def perform_destroy(self, instance):
        domain_remove(domain=instance)


# --- agents and staffing -----------------------------------------------------------


class AgentOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = AgentProfile
        fields = ["id", "username", "email", "display_name", "max_concurrent_chats", "skills", "created_at"]


class AgentInput(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    email = serializers.EmailField()
    password = serializers.CharField(min_length=8, max_length=200, trim_whitespace=False, write_only=True)
    display_name = serializers.CharField(max_length=80)
    max_concurrent_chats = serializers.IntegerField(min_value=1, max_value=20, default=3)
    skills = serializers.ListField(child=serializers.CharField(max_length=40), default=list)


class AgentListView(PlatformAPIMixin, generics.ListCreateAPIView):
    serializer_class = AgentOut
    filterset_fields = ["display_name"]
    ordering_fields = ["display_name", "id", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        return AgentProfile.objects.select_related("user")

    def get_serializer_class(self):
        return AgentInput if self.request and self.request.method == "POST" else AgentOut

    @extend_schema(request=AgentInput, parameters=[IDEMPOTENCY_PARAMETER], responses={201: AgentOut})
    def post(self, request, *args, **kwargs):
        def create():
            data = AgentInput(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            if User.objects.filter(username=values["username"]).exists():
                raise BrandError(f"The username {values['username']!r} is taken.")
            if User.objects.filter(email__iexact=values["email"]).exists():
                raise BrandError("Another user has this email address.")
            try:
                with transaction.atomic():
                    user = user_upsert(username=values["username"], email=values["email"], password=values["password"])
                    agent = agent_upsert(user=user, display_name=values["display_name"], max_concurrent_chats=values["max_concurrent_chats"], skills=values["skills"])
            except IntegrityError:  # a concurrent request took the name or address first
                raise BrandError("The username or email address is taken.") from None
            return Response(AgentOut(agent).data, status=201)

        return self.idempotent(request, create)


class StaffingOut(serializers.ModelSerializer):
    agent_id = serializers.PrimaryKeyRelatedField(source="agent", queryset=AgentProfile.objects.all())
    display_name = serializers.CharField(source="agent.display_name", read_only=True)

    class Meta:
        model = Staffing
        fields = ["id", "agent_id", "display_name", "role", "categories", "created_at"]
        read_only_fields = ["id", "created_at"]


class StaffingListView(BrandScopedMixin, generics.ListCreateAPIView):
    """Who serves the brand; POST staffs an agent (or changes their role and categories)."""

    serializer_class = StaffingOut
    filterset_fields = ["role"]
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        return Staffing.objects.filter(brand=self.brand).select_related("agent")

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], responses={201: StaffingOut})
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        values = serializer.validated_data
        serializer.instance = staffing_upsert(agent=values["agent"], brand=self.brand, role=values.get("role", Staffing.Role.AGENT), categories=values.get("categories"))


class StaffingDetailView(BrandScopedMixin, generics.DestroyAPIView):
    serializer_class = StaffingOut
    lookup_url_kwarg = "agent_id"
    lookup_field = "agent_id"

    def get_queryset(self):
        return Staffing.objects.filter(brand=self.brand)


# --- brand API keys ----------------------------------------------------------------


class APIKeyOut(serializers.ModelSerializer):
    class Meta:
        model = BrandAPIKey
        fields = ["id", "name", "prefix", "access", "resources", "created_at", "expires_at", "revoked_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "revoked_at", "last_used_at"]


class APIKeyIssuedOut(APIKeyOut):
    key = serializers.SerializerMethodField(help_text="The key itself: shown this once, never again.")

    class Meta(APIKeyOut.Meta):
        fields = [*APIKeyOut.Meta.fields, "key"]

    def get_key(self, key) -> str:
        return self.context["raw"]


class APIKeyListView(BrandScopedMixin, generics.ListCreateAPIView):
    serializer_class = APIKeyOut
    filterset_fields = ["access"]
    ordering_fields = ["id", "created_at", "last_used_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return BrandAPIKey.objects.filter(brand=self.brand)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: APIKeyIssuedOut},
        examples=[OpenApiExample("A read key for surveys", value={"name": "BI export", "access": "read", "resources": ["surveys", "conversations"]}, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        def create():
            data = APIKeyOut(data=request.data)
            data.is_valid(raise_exception=True)
            issued = api_key_issue(brand=self.brand, **data.validated_data)
            return Response(APIKeyIssuedOut(issued.key, context={"raw": issued.raw}).data, status=201)

        return self.idempotent(request, create)


class APIKeyRevokeView(BrandScopedMixin, generics.GenericAPIView):
    serializer_class = APIKeyOut
    lookup_url_kwarg = "key_id"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return BrandAPIKey.objects.filter(brand=self.brand)

    @extend_schema(request=None, responses={200: APIKeyOut})
    def post(self, request, brand, key_id):
        return Response(APIKeyOut(api_key_revoke(key=self.get_object())).data)
