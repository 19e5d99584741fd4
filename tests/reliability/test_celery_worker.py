"""A real Celery worker (a separate process, the real Redis broker) runs a task sent
from a brand in that brand's schema."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django_tenants.utils import schema_context

from chat.outbox import email_enqueue
from chat.models import OutboundEmail
from config.celery import app
from tests.chat.test_email import Inbox
from tests.ports import free_port
from tests.factories import next_ids_aligned

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def smtp_port():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def worker(smtp_port, settings):
    port, _ = smtp_port
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", TEST_RUN_ID=settings.RUN_ID, TEST_WORKER="true", CELERY_TASK_ALWAYS_EAGER="false", TEST_SMTP_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    settings.EMAIL_PORT = port
    yield process
    app.conf.task_always_eager = True
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_from_a_brand_runs_in_that_brands_schema(alpha, beta, smtp_port, worker):
    _, inbox = smtp_port
    # The same email id in both brands, different recipients: the worker must read alpha's.
    next_ids_aligned(OutboundEmail, "brand_alpha", "brand_beta")
    with schema_context("brand_beta"):
        beta_email = OutboundEmail.objects.create(to="beta@example.com", subject="Hello", body="From the outbox", kind="test")
    with schema_context("brand_alpha"):
        email_enqueue(to="alpha@example.com", subject="Hello", body="From the outbox", kind="test")  # outside a transaction: queued at once

    deadline = time.time() + 30
    while time.time() < deadline and not inbox.messages:
        assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    assert [m["to"] for m in inbox.messages] == [["alpha@example.com"]]
    with schema_context("brand_alpha"):
        alpha_email = OutboundEmail.objects.get()
        assert alpha_email.sent_at is not None and alpha_email.id == beta_email.id  # ids repeat across brands
    with schema_context("brand_beta"):
        assert OutboundEmail.objects.get().sent_at is None
    assert settings.CELERY_TASK_DEFAULT_QUEUE.endswith(settings.RUN_ID)
