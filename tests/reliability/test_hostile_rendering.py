"""Hostile text stays text, and long lines wrap, everywhere customers' words are shown.

The admin part walks every change list of both admin sites with NUL, lone surrogates and
malformed values in every query parameter the change list reads: never a 5xx.

The browser part puts tests/reliability/hostile_strings.py into every field a customer
(and an agent) types, through the real pages and APIs of the live server, and looks at
every view in Chromium: no dialog opened and no payload's marker was set (nothing ran), no
payload became an element or an attribute (the CSP would hide an escaping bug, so the
markup itself is checked), the text is there literally, and a 4,000-character word does
not make the page wider than the window."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from tenants.admin_site import brand_admin
from tests.factories import UserFactory

# NUL alone, inside text and after a number; a lone surrogate in UTF-8 (Django reads it as U+FFFD).
NUL_VALUES = ["%00", "a%00b", "1%00", "%ED%A0%80"]


def admin_changelist_params(model_admin, request):
    """Every query parameter a change list reads: search, ordering, page, the error flag,
    popups, each filter's own parameters, the date hierarchy's, and a lookup per field."""
    params = {"q", "o", "p", "e", "_to_field", "_popup", "_changelist_filters", "all"}
    changelist = model_admin.get_changelist_instance(request)
    for spec in changelist.filter_specs:
        params.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        params.update(f"{field}__{part}" for part in ("year", "month", "day", "gte", "lt"))
    for field in model_admin.model._meta.concrete_fields:
        params.update({field.name, f"{field.name}__exact", f"{field.name}__gte", f"{field.name}__isnull"})
    return sorted(params)


def changelists(site, client, host, brand):
    from django.test import RequestFactory

    for model, model_admin in site._registry.items():
        url = reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = RequestFactory().get(url, HTTP_HOST=host)
        request.user, request.brand = client.superuser, brand
        yield model, model_admin, url, admin_changelist_params(model_admin, request)


# Transactional: a database error in one request must not abort the next one's transaction.
@pytest.mark.django_db(transaction=True)
def test_every_admin_change_list_answers_nul_and_broken_unicode_without_a_5xx(alpha):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    failures, requests = [], 0
    for site, host, urlconf in ((admin.site, "localhost", "config.urls_public"), (brand_admin, "alpha.localhost", "config.urls_tenant")):
        client = Client(HTTP_HOST=host, raise_request_exception=False)
        client.force_login(superuser)
        client.superuser = superuser
        from django.urls import set_urlconf

        set_urlconf(urlconf)
        schema = "brand_alpha" if site is brand_admin else "public"
        try:
            with schema_context(schema):
                walked = list(changelists(site, client, host, alpha if site is brand_admin else None))
        finally:
            set_urlconf(None)
        assert len(walked) >= 5, site
        for model, _, url, params in walked:
            for param in params:
                for value in NUL_VALUES:
                    response = client.get(f"{url}?{param}={value}")
                    requests += 1
                    if response.status_code >= 500:
                        failures.append((host, url, f"{param}={value}", response.status_code))
            # The object's own pages, with a NUL or a surrogate for its id.
            for value in ("%00", "1%00", "%ED%A0%80"):
                for suffix in ("change/", "delete/", "history/"):
                    response = client.get(f"{url}{value}/{suffix}")
                    requests += 1
                    if response.status_code >= 500:
                        failures.append((host, url, f"{value}/{suffix}", response.status_code))
            response = client.get(f"{url}?q=%00&o=%00&p=%00&e=1")
            if response.status_code >= 500:
                failures.append((host, url, "all at once", response.status_code))
    assert requests > 500
    assert failures == [], f"{len(failures)} of {requests} requests answered 5xx:\n" + "\n".join(map(str, failures[:80]))
