"""Report figures against values worked out by hand on a small fixed data set: a transfer
mid-chat, concurrent chats on two brands, a chat across midnight, and a conversation that
falls on another day in another time zone."""

from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from chat.billing import agent_time_report
from chat.models import AgentSegment, Conversation, OfflineMessage
from chat.report_periods import ReportError, period_parse
from chat.reports import brand_report
from knowledge.models import Category
from routing.models import AgentState, PresenceInterval, QueueEntry
from surveys.models import Survey
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 2)  # a Monday


def at(hour, minute=0, day=2, month=11):
    return datetime(2026, month, day, hour, minute, tzinfo=dt_timezone.utc)


_tokens = iter(range(10_000))


def conversation(*, created, state, category="shipping", queued=None, assigned=None, first_reply=None, ended=None, agent=None, suggested=(), resolved=None):
    conv = Conversation.objects.create(
        token_hash=f"t{next(_tokens)}", customer_name="Dana", customer_email="dana@example.com",
        category=Category.objects.get(slug=category), summary="help", state=state,
        queued_at=queued, assigned_at=assigned, first_agent_reply_at=first_reply, ended_at=ended,
        agent_id=agent.id if agent else None, agent_name=agent.display_name if agent else "",
        suggested_article_ids=list(suggested), resolved_article_id=resolved,
    )
    Conversation.objects.filter(pk=conv.pk).update(created_at=created)
    return conv


def segment(conv, agent, start, end, reason=AgentSegment.EndReason.ENDED):
    AgentSegment.objects.create(conversation=conv, agent_id=agent.id, agent_name=agent.display_name, started_at=start, ended_at=end, end_reason=reason)


def surveys_offered_at_the_end():
    for survey in Survey.objects.select_related("conversation"):
        Survey.objects.filter(pk=survey.pk).update(requested_at=survey.conversation.ended_at)


@pytest.fixture
def data(alpha, beta):
    ann = agent_staffed(alpha, beta, display_name="Ann")
    ben = agent_staffed(alpha, display_name="Ben")
    with schema_context(alpha.schema_name):
        # 1: queued 09:58, Ann 10:00-10:20, transferred to Ben 10:20-10:40; rated 4.
        c1 = conversation(created=at(9, 55), state="ended", queued=at(9, 58), assigned=at(10), first_reply=at(10, 1), ended=at(10, 40), agent=ben)
        segment(c1, ann, at(10), at(10, 20), AgentSegment.EndReason.TRANSFERRED)
        segment(c1, ben, at(10, 20), at(10, 40))
        Survey.objects.create(conversation=c1, agent_id=ben.id, rating=4, comment="<b>quick</b>", answered_at=at(10, 45))
        # 2: across midnight, Ben 23:50 -> 00:10; queued 23:45, wait 5 min; survey unanswered.
        c2 = conversation(created=at(23, 40), state="ended", queued=at(23, 45), assigned=at(23, 50), first_reply=at(23, 53), ended=at(0, 10, day=3), agent=ben)
        segment(c2, ben, at(23, 50), at(0, 10, day=3))
        Survey.objects.create(conversation=c2, agent_id=ben.id)
        # 3: resolved by an article; 4: abandoned in the queue; 5: left before queueing.
        conversation(created=at(12), state="resolved_by_article", category="returns")
        conversation(created=at(13), state="abandoned", queued=at(13, 1), ended=at(13, 9))
        conversation(created=at(14), state="suggesting", category="general")
        # 6: 23:30 UTC on Nov 1 is 00:30 on Nov 2 in Berlin.
        conversation(created=at(23, 30, day=1), state="resolved_by_article", category="returns")
        OfflineMessage.objects.create(customer_name="Eve", customer_email="eve@example.com", category=Category.objects.get(slug="general"), summary="closed?", reason="closed")
        OfflineMessage.objects.filter().update(created_at=at(8))
        surveys_offered_at_the_end()
    with schema_context(beta.schema_name):
        # Ann at the same time on beta: 10:10-10:30.
        c7 = conversation(created=at(10, 5), state="ended", category="setup", queued=at(10, 8), assigned=at(10, 10), first_reply=at(10, 12), ended=at(10, 30), agent=ann)
        segment(c7, ann, at(10, 10), at(10, 30))
        Survey.objects.create(conversation=c7, agent_id=ann.id, rating=2, answered_at=at(10, 31))
        surveys_offered_at_the_end()
    connection.set_schema_to_public()
    PresenceInterval.objects.create(agent=ann, presence=AgentState.Presence.ONLINE, started_at=at(9), ended_at=at(11))
    PresenceInterval.objects.create(agent=ann, presence=AgentState.Presence.AWAY, started_at=at(11), ended_at=at(12))
    # Quotes against real waits: told 120 s, waited 120 s (position 1); told 60 s, waited 300 s (position 3).
    QueueEntry.objects.create(brand=alpha, conversation_id=c1.id, category="shipping", state="done", entered_at=at(9, 58), assigned_at=at(10), customer_name="Dana", summary="help", quoted_seconds=120, quoted_position=1)
    QueueEntry.objects.create(brand=alpha, conversation_id=c2.id, category="shipping", state="done", entered_at=at(23, 45), assigned_at=at(23, 50), customer_name="Dana", summary="help", quoted_seconds=60, quoted_position=3)
    return {"alpha": alpha, "beta": beta, "ann": ann, "ben": ben}


def test_brand_figures_for_a_utc_day(data):
    report = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    assert report["outcomes"] == {
        "conversations": 5, "resolved_by_article": 1, "chatted": 2, "abandoned_in_queue": 1, "left_before_queueing": 1, "offline_messages": 1,
    }
    assert report["deflection_rate"] == round(1 / 4, 4)  # 1 resolved of 1 + 3 queued
    wait = report["queue_wait"]  # 120 s and 300 s
    assert wait["count"] == 2 and wait["average"] == 210.0
    # Percentiles are read off log-spaced bins about 21 % wide: the median lies between the
    # two waits, the p90 in the bin of the longer one.
    assert 120 <= wait["p50"] <= 300 and 300 / 1.21 <= wait["p90"] <= 300 * 1.21
    assert report["first_response"]["average"] == 120.0  # 60 s and 180 s
    assert report["handle_time"]["average"] == 1800.0  # 40 min and 20 min
    assert report["csat"]["average"] == 4.0 and report["csat"]["answered"] == 1 and report["csat"]["requested"] == 2
    assert report["csat"]["response_rate"] == 0.5 and report["csat"]["distribution"]["4"] == 1
    assert report["csat"]["comments"][0]["comment"] == "<b>quick</b>"  # stored as typed; pages escape it
    by_category = {row["category"]: row for row in report["by_category"]}
    assert by_category["shipping"]["conversations"] == 3 and by_category["returns"]["resolved_by_article"] == 1
    by_agent = {row["name"]: row for row in report["by_agent"]}
    # Agent time on the brand is the fair split: Ann shared 10:10-10:20 with a beta chat;
    # Ben's night chat is clipped at midnight.
    assert by_agent["Ann"]["held_seconds"] == 900.0 and by_agent["Ben"]["held_seconds"] == 1200.0 + 600.0
    assert by_agent["Ben"]["csat"] == 4.0
    assert report["by_weekday_hour"][0][9] == 1 and report["by_weekday_hour"][0][23] == 1  # Monday 09:xx and 23:xx
    assert [row["day"] for row in report["trend"]] == ["2026-11-02"]


def test_the_time_zone_moves_a_conversation_to_another_day(data):
    utc = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    berlin = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="Europe/Berlin"))
    # Berlin's Nov 2 runs 23:00 UTC Nov 1 to 23:00 UTC Nov 2: it gains the 23:30 conversation
    # and loses the two after 23:00 UTC (the night chat at 23:40 is Nov 3 there).
    assert utc["outcomes"]["resolved_by_article"] == 1 and berlin["outcomes"]["resolved_by_article"] == 2
    assert berlin["outcomes"]["conversations"] == 5 and berlin["outcomes"]["chatted"] == 1
    assert berlin["by_weekday_hour"][0][0] == 1  # 00:30 local, Monday


def test_wait_accuracy_sets_each_quote_against_the_real_wait(data):
    accuracy = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))["wait_accuracy"]
    assert accuracy["served"] == 2 and accuracy["share_within_quote"] == 0.5
    assert accuracy["mean_absolute_error"] == 120.0 and accuracy["mean_signed_error"] == -120.0
    by_position = {row["position"]: row for row in accuracy["by_position"]}
    assert by_position["1"]["mean_absolute_error"] == 0.0 and by_position["3"]["mean_absolute_error"] == 240.0


def test_billable_time_splits_concurrent_chats_and_transfers(data):
    report = agent_time_report(brands=[data["alpha"], data["beta"]], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    agents = {row["name"]: row for row in report["agents"]}
    ann, ben = agents["Ann"], agents["Ben"]
    # Ann: 10:00-10:10 alpha alone (600), 10:10-10:20 both (300 + 300), 10:20-10:30 beta alone (600).
    assert {b["brand"]: b["billable_seconds"] for b in ann["brands"]} == {"alpha": 900.0, "beta": 900.0}
    assert ann["busy_seconds"] == 1800.0 and ann["billable_seconds"] == 1800.0
    assert ann["logged_in_seconds"] == 7200.0 and ann["occupancy"] == 0.25  # away time is not logged-in time
    assert ann["chats"] == 2 and ann["chats_per_hour"] == 1.0 and ann["csat"] == 2.0
    # Ben: 10:20-10:40 after the transfer, and 23:50-24:00 of the night chat.
    assert {b["brand"]: b["billable_seconds"] for b in ben["brands"]} == {"alpha": 1800.0}
    assert ben["logged_in_seconds"] == 0.0 and ben["occupancy"] is None
    brands = {row["brand"]: row for row in report["brands"]}
    assert brands["alpha"]["billable_seconds"] == 2700.0 and brands["beta"]["billable_seconds"] == 900.0
    # Conversations completed that day: the transferred one once; the night chat ends on Nov 3.
    assert brands["alpha"]["chats"] == 1 and brands["alpha"]["agents"] == 2


def test_rolled_up_agent_time_gives_the_same_billing_as_the_segments(data):
    from chat.billing import agent_time_buckets_roll_up

    period = period_parse(first_day=DAY, last_day=date(2026, 11, 3), time_zone="Europe/Berlin")
    live = agent_time_report(brands=[data["alpha"], data["beta"]], period=period)
    assert agent_time_buckets_roll_up(since=at(0, day=1), now=at(12, day=5)) > 0
    assert agent_time_report(brands=[data["alpha"], data["beta"]], period=period) == live


def test_the_next_day_gets_the_rest_of_the_night_chat(data):
    report = agent_time_report(brands=[data["alpha"]], period=period_parse(first_day=date(2026, 11, 3), last_day=date(2026, 11, 3), time_zone="UTC"))
    assert [(a["name"], a["billable_seconds"]) for a in report["agents"]] == [("Ben", 600.0)]


def test_a_brand_report_reads_only_that_brand(data):
    beta = brand_report(brand=data["beta"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    assert beta["outcomes"]["conversations"] == 1 and beta["wait_accuracy"]["served"] == 0
    assert [row["name"] for row in beta["by_agent"]] == ["Ann"]


def test_rolled_up_buckets_give_the_same_figures_as_the_conversations(data):
    from chat.reports import report_buckets_roll_up

    # A UTC day reads whole rolled-up days; a Berlin day whole hours plus live edges.
    periods = [period_parse(first_day=DAY, last_day=date(2026, 11, 3), time_zone=zone) for zone in ("UTC", "Europe/Berlin", "Asia/Kolkata")]
    live = [brand_report(brand=data["alpha"], period=period) for period in periods]
    with schema_context(data["alpha"].schema_name):
        written = report_buckets_roll_up(now=at(12, day=5))
        assert written > 0
        # Rolling up again (a later sweep) rewrites the look-back window, never doubles it.
        report_buckets_roll_up(now=at(12, 7, day=5))
    connection.set_schema_to_public()
    assert [brand_report(brand=data["alpha"], period=period) for period in periods] == live


def test_percentiles_of_many_waits_are_within_a_bin_of_the_exact_ones():
    import math
    import statistics

    from chat.reports import HIST_BINS, HIST_TOP_SECONDS, histogram_percentile

    waits = [3 + (i * 37) % 600 for i in range(1000)]
    counts = [0] * (HIST_BINS + 2)
    for w in waits:
        counts[min(HIST_BINS + 1, 1 + int(math.log1p(w) / (math.log1p(HIST_TOP_SECONDS) / HIST_BINS)))] += 1
    for q in (0.5, 0.9):
        exact = statistics.quantiles(waits, n=100)[int(q * 100) - 1]
        assert abs(histogram_percentile(counts, q) - exact) / exact < 0.1


@pytest.mark.parametrize(
    "first, last, zone",
    [("2026-11-02", "2026-11-01", "UTC"), ("yesterday", "2026-11-01", "UTC"), ("2026-11-01", "2026-11-02", "Mars/Olympus"), ("2025-01-01", "2026-11-02", "UTC")],
)
def test_bad_periods_are_refused_with_a_reason(first, last, zone):
    with pytest.raises(ReportError):
        period_parse(first_day=first, last_day=last, time_zone=zone)


def test_wrap_ups_are_counted_by_tag_and_disposition(data):
    from chat.models import Tag, WrapUp

    with schema_context(data["alpha"].schema_name):
        refund = Tag.objects.create(slug="refund", name="Refund")
        wrap = WrapUp.objects.create(conversation=Conversation.objects.get(ended_at=at(10, 40)), disposition="resolved", agent_id=data["ben"].id, wrapped_at=at(10, 41))
        wrap.tags.add(refund)
    connection.set_schema_to_public()
    report = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    assert report["by_disposition"] == [{"disposition": "resolved", "conversations": 1}]
    assert report["by_tag"] == [{"tag": "refund", "name": "Refund", "conversations": 1}]


def test_sla_compliance_per_target(data):
    from sla.models import SlaClock, SlaKind

    with schema_context(data["alpha"].schema_name):
        chat = Conversation.objects.get(ended_at=at(10, 40))
        for minute, breached in ((5, False), (10, True)):
            SlaClock.objects.create(
                conversation=chat, kind=SlaKind.FIRST_REPLY, started_at=at(10, minute - 1), target_seconds=60, warn_at=at(10, minute),
                due_at=at(10, minute), stopped_at=None if breached else at(10, 1), breached_at=at(10, minute) if breached else None,
            )
    connection.set_schema_to_public()
    report = brand_report(brand=data["alpha"], period=period_parse(first_day=DAY, last_day=DAY, time_zone="UTC"))
    assert report["sla"] == [{"target": SlaKind.FIRST_REPLY.value, "clocks": 2, "breached": 1, "compliance": 0.5}]
