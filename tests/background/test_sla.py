"""Service levels: each kind of breach fires exactly once, on plain or business time
(across a closing time and a holiday); a breached queued chat moves up; supervisors are
told live and by email (a real worker delivers it once); the holding agent is warned."""

import time
from datetime import date, datetime, timedelta, timezone as dt_timezone

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.messages import message_send
from chat.models import Conversation, Message, OutboundEmail
from chat import services
from config.celery import app
from helpdesk.models import Staffing
from knowledge.models import Category
from routing.models import QueueEntry
from sla.clock import business_deadline
from sla.models import Holiday, SlaClock, SlaEvent, SlaKind, SlaPolicy
from sla.services import BREACHED_PRIORITY, sla_sweep_brand
from tenants.models import Brand
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed
from tests.reliability.test_celery_worker import smtp_port, worker  # noqa: F401 (fixtures)
from tests.sockets import frames_until

TARGET = 60
WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
UTC = dt_timezone.utc


def policy(slug="alpha", **fields):
    with schema_context(Brand.objects.get(slug=slug).schema_name):
        defaults = {"queue_wait_seconds": TARGET, "first_reply_seconds": TARGET, "next_reply_seconds": TARGET}
        return SlaPolicy.objects.create(**{**defaults, **fields})


def sweep(brand, *, after=None, at=None):
    brand = Brand.objects.get(pk=brand.pk)
    with schema_context(brand.schema_name):
        return sla_sweep_brand(brand=brand, now=at or timezone.now() + after)


def in_schema(brand, fn):
    with schema_context(brand.schema_name):
        return fn()


def queued(slug="alpha"):
    brand, conversation, token = conversation_started(slug=slug)
    with schema_context(brand.schema_name):
        services.conversation_escalate(brand=brand, conversation=conversation)
    connection.set_schema_to_public()
    return brand, conversation


def breaches(brand):
    return in_schema(brand, lambda: list(SlaEvent.objects.values_list("conversation_id", "kind")))


# --- Business time ------------------------------------------------------------------------

def test_business_time_stops_at_closing_and_skips_holidays():
    monday_late = datetime(2026, 11, 30, 16, 50, tzinfo=UTC)  # a Monday
    due = business_deadline(start=monday_late, seconds=20 * 60, hours=WEEKDAYS_9_TO_5, time_zone="UTC", holidays=set())
    assert due == datetime(2026, 12, 1, 9, 10, tzinfo=UTC)  # 10 min on Monday, 10 on Tuesday
    due = business_deadline(start=monday_late, seconds=20 * 60, hours=WEEKDAYS_9_TO_5, time_zone="UTC", holidays={date(2026, 12, 1)})
    assert due == datetime(2026, 12, 2, 9, 10, tzinfo=UTC)  # Tuesday is a holiday
    friday_night = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    assert business_deadline(start=friday_night, seconds=60, hours=WEEKDAYS_9_TO_5, time_zone="UTC", holidays=set()) == datetime(2026, 12, 7, 9, 1, tzinfo=UTC)
    # Hours are the brand's own: 09:00 in New York is 14:00 UTC in December.
    ny = business_deadline(start=datetime(2026, 12, 1, 12, 0, tzinfo=UTC), seconds=60, hours=WEEKDAYS_9_TO_5, time_zone="America/New_York", holidays=set())
    assert ny == datetime(2026, 12, 1, 14, 1, tzinfo=UTC)
    # No hours at all means always open.
    assert business_deadline(start=friday_night, seconds=60, hours={}, time_zone="UTC", holidays=set()) == friday_night + timedelta(seconds=60)


# --- Each kind, once ------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_queue_wait_breach_is_recorded_once_and_the_chat_moves_up(alpha):
    agent_staffed(alpha, role=Staffing.Role.SUPERVISOR, user__email="sue@example.com")
    policy()
    brand, conversation = queued()
    assert sweep(brand, after=timedelta(seconds=TARGET - 5))["breached"] == 0
    assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1
    assert sweep(brand, after=timedelta(seconds=TARGET + 30))["breached"] == 0
    assert breaches(brand) == [(conversation.id, SlaKind.QUEUE_WAIT)]
    assert QueueEntry.objects.get(brand=brand, conversation_id=conversation.id).priority == BREACHED_PRIORITY
    assert in_schema(brand, lambda: list(OutboundEmail.objects.filter(kind="sla_breached").values_list("to", flat=True))) == ["sue@example.com"]


@pytest.mark.django_db
def test_a_first_reply_breach_is_recorded_once(alpha):
    policy()
    agent = agent_staffed(alpha)
    brand, conversation, _ = conversation_active(agent=agent)
    assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1
    assert sweep(brand, after=timedelta(seconds=TARGET + 2))["breached"] == 0
    assert breaches(brand) == [(conversation.id, SlaKind.FIRST_REPLY)]
    # The late reply stops the clock; it stays one breach.
    in_schema(brand, lambda: message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="Sorry!", agent=agent))
    sweep(brand, after=timedelta(seconds=TARGET + 3))
    assert in_schema(brand, lambda: SlaClock.objects.get(kind=SlaKind.FIRST_REPLY).stopped_at) is not None


@pytest.mark.django_db
def test_a_next_reply_breach_is_recorded_once_and_a_kept_one_is_not(alpha):
    policy()
    agent = agent_staffed(alpha)
    brand, conversation, _ = conversation_active(agent=agent)

    def say(sender, body):
        return in_schema(brand, lambda: message_send(conversation_id=conversation.id, sender=sender, body=body, agent=agent if sender == Message.Sender.AGENT else None))

    assert sweep(brand, after=timedelta(seconds=1))["started"] == 1  # the first reply's clock
    say(Message.Sender.AGENT, "Hi, how can I help?")
    assert sweep(brand, after=timedelta(seconds=2)) == {"started": 0, "kept": 1, "warned": 0, "breached": 0}
    say(Message.Sender.CUSTOMER, "My parcel?")
    assert sweep(brand, after=timedelta(seconds=1))["started"] == 1
    assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1
    assert sweep(brand, after=timedelta(seconds=TARGET + 9))["breached"] == 0
    assert breaches(brand) == [(conversation.id, SlaKind.NEXT_REPLY)]
    assert in_schema(brand, lambda: SlaClock.objects.filter(kind=SlaKind.FIRST_REPLY, stopped_at__isnull=False, breached_at__isnull=True).count()) == 1


@pytest.mark.django_db
def test_a_category_policy_wins_over_the_default(alpha):
    policy(queue_wait_seconds=3600)
    with schema_context(alpha.schema_name):
        shipping = Category.objects.get(slug="shipping")
    policy(category=shipping, queue_wait_seconds=TARGET)
    brand, conversation = queued()  # a shipping chat
    assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1


@pytest.mark.django_db
def test_the_business_hours_clock_pauses_over_the_night_and_a_holiday(alpha):
    policy(queue_wait_seconds=3600, business_hours_only=True)
    brand, conversation = queued()
    Brand.objects.filter(pk=brand.pk).update(business_hours=WEEKDAYS_9_TO_5, time_zone="UTC")
    monday_4pm = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    with schema_context(brand.schema_name):
        Conversation.objects.filter(pk=conversation.id).update(queued_at=monday_4pm)
        Holiday.objects.create(date=date(2026, 12, 1), name="Founders' day")  # Tuesday
    sweep(brand, at=monday_4pm + timedelta(minutes=1))
    assert in_schema(brand, lambda: SlaClock.objects.get().due_at) == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert sweep(brand, at=datetime(2026, 11, 30, 17, 31, tzinfo=UTC))["breached"] == 0  # an hour later, but half of it closed
    assert sweep(brand, at=datetime(2026, 12, 1, 9, 31, tzinfo=UTC))["breached"] == 0  # the holiday does not count
    assert sweep(brand, at=datetime(2026, 12, 2, 9, 31, tzinfo=UTC))["breached"] == 1
    assert breaches(brand) == [(conversation.id, SlaKind.QUEUE_WAIT)]


@pytest.mark.django_db
def test_one_brands_policy_and_breaches_stay_its_own(alpha, beta):
    policy("alpha")
    beta_brand, beta_conversation = queued("beta")
    alpha_brand, alpha_conversation = queued("alpha")
    assert sweep(beta_brand, after=timedelta(seconds=TARGET + 1)) == {"started": 0, "kept": 0, "warned": 0, "breached": 0}
    assert sweep(alpha_brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1
    assert breaches(beta_brand) == []
    assert breaches(alpha_brand) == [(alpha_conversation.id, SlaKind.QUEUE_WAIT)]


# --- Live -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_agent_is_warned_and_the_supervisor_sees_the_breach_live(sockets):
    alpha = await database_sync_to_async(Brand.objects.get)(slug="alpha")
    await database_sync_to_async(policy)(warn_at_percent=50)
    supervisor = await database_sync_to_async(agent_staffed)(alpha, role=Staffing.Role.SUPERVISOR)
    agent = await database_sync_to_async(agent_staffed)(alpha)
    _, conversation, _ = await database_sync_to_async(conversation_active)(agent=agent)
    agent_ws = await sockets.agent_authed(agent)
    supervisor_ws = await sockets.agent_authed(supervisor)

    await database_sync_to_async(sweep)(alpha, after=timedelta(seconds=TARGET // 2 + 1))
    warning, _ = await frames_until(agent_ws, "alert")
    assert (warning["kind"], warning["sla"], warning["conversation_id"]) == ("sla.warning", "first_reply", conversation.id)
    await database_sync_to_async(sweep)(alpha, after=timedelta(seconds=TARGET + 1))
    breach, _ = await frames_until(supervisor_ws, "alert")
    assert (breach["kind"], breach["sla"], breach["brand"]) == ("sla.breached", "first_reply", "alpha")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_records_the_breach_and_emails_it_once(alpha, smtp_port, worker):  # noqa: F811
    _, inbox = smtp_port
    agent_staffed(alpha, role=Staffing.Role.SUPERVISOR, user__email="sue@example.com")
    policy()
    brand, conversation = queued()
    with schema_context(brand.schema_name):
        Conversation.objects.filter(pk=conversation.id).update(queued_at=timezone.now() - timedelta(seconds=TARGET + 1))
    for _ in range(2):  # the beat fires again before anything is known to be done
        app.send_task("sla.tasks.sla_sweep")
        app.send_task("chat.tasks.chat_sweep")
    deadline = time.time() + 30
    while time.time() < deadline and not inbox.messages:
        assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    app.send_task("chat.tasks.chat_sweep")
    time.sleep(2)
    assert [m["to"] for m in inbox.messages] == [["sue@example.com"]]
    assert breaches(brand) == [(conversation.id, SlaKind.QUEUE_WAIT)]
