"""Security headers on every page: a CSP with no inline script, nosniff, a referrer
policy, and frame rules (only the chat page may be framed); HSTS and the SSL redirect in
production settings."""

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.chat.helpers import conversation_started

pytestmark = pytest.mark.django_db

PAGES = [("localhost", "/agent/login/"), ("localhost", "/admin/login/"), ("alpha.localhost", "/support/"), ("alpha.localhost", "/admin/login/")]


def directives(header: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("host, path", PAGES)
def test_pages_carry_a_strict_policy_and_refuse_framing(alpha, host, path):
    response = Client(HTTP_HOST=host).get(path)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"] and response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_only_the_chat_page_may_be_framed(alpha):
    conversation_started()
    response = Client(HTTP_HOST="alpha.localhost").get("/chat/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["*"] and policy["script-src"] == ["'self'"]
    assert "X-Frame-Options" not in response


def test_production_turns_on_hsts_and_the_ssl_redirect():
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "x" * 50}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "31536000", "True", "True"]
