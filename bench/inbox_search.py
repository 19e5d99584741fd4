"""Inbox search: the full-text query of chat.search over one brand's conversations and
messages, on the GIN tsvector indexes of chat migration 0006.

Baseline, measured in the same run on the same rows: the very same query with the two
indexes dropped (inside a transaction that is rolled back), i.e. PostgreSQL computing every
row's tsvector. A second reference is the naive search an admin list does, ILIKE '%word%'.
"""

import random
import statistics
import sys
import time

CONVERSATIONS = 10_000
MESSAGES_EACH = 5
RUNS = 7
WORDS = "parcel refund tent pole boots jacket delivery courier label size colour zip strap lining sole waterproof".split()


def _timed(fn) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv: list[str]) -> None:
    from bench.django_setup import setup

    setup("helpdesk_bench_inbox")  # its own database: other benchmarks may run at the same time
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from chat.models import Conversation, Message
    from chat.search import ConversationFilters, conversations_search
    from knowledge.models import Category
    from tenants.services import brand_create

    brand_create(name="Search Bench", slug="search-bench")
    rng = random.Random(14)
    with schema_context("brand_search_bench"):
        category = Category.objects.create(slug="general", name="General")
        conversations = Conversation.objects.bulk_create([
            Conversation(
                token_hash=f"{i:064d}", customer_name=f"Customer {i}", customer_email=f"c{i}@example.com", customer_external_id=f"C-{i}",
                category=category, summary=" ".join(rng.choices(WORDS, k=6)), product_id=f"SKU-{i}", state=Conversation.State.ENDED,
            )
            for i in range(CONVERSATIONS)
        ], batch_size=2000)
        Message.objects.bulk_create([
            Message(conversation=c, seq=seq, sender=Message.Sender.CUSTOMER, body=" ".join(rng.choices(WORDS, k=12)))
            for c in conversations for seq in range(1, MESSAGES_EACH + 1)
        ], batch_size=5000)
        # One rare word in one message: what an agent searching an order number looks for.
        Message.objects.filter(conversation=conversations[CONVERSATIONS // 2], seq=3).update(body="my order ZX-99812 never came")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE chat_conversation; ANALYZE chat_message")

        def search(text):
            return lambda: list(conversations_search(filters=ConversationFilters(text=text), mine_agent_id=None)[:25])

        def ilike(text):
            return lambda: list(Conversation.objects.filter(messages__body__icontains=text).distinct().order_by("-created_at")[:25])

        assert len(search("ZX-99812")()) == 1
        indexed_rare, indexed_common = _timed(search("ZX-99812")), _timed(search("courier waterproof"))
        naive_rare = _timed(ilike("ZX-99812"))
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX chat_message_body_fts; DROP INDEX chat_conversation_fts")
            base_rare, base_common = _timed(search("ZX-99812")), _timed(search("courier waterproof"))
            transaction.set_rollback(True)
    rows = f"{CONVERSATIONS} conversations, {CONVERSATIONS * MESSAGES_EACH} messages"
    print(f"inbox search over {rows}, median of {RUNS}")
    print(f"  rare word, no index (baseline):     {base_rare * 1000:8.1f} ms")
    print(f"  rare word, GIN indexes:              {indexed_rare * 1000:8.1f} ms  ratio {indexed_rare / base_rare:.3f}x")
    print(f"  rare word, ILIKE '%word%' (naive):   {naive_rare * 1000:8.1f} ms  ratio {naive_rare / base_rare:.3f}x")
    print(f"  common words, no index (baseline):  {base_common * 1000:8.1f} ms")
    print(f"  common words, GIN indexes:           {indexed_common * 1000:8.1f} ms  ratio {indexed_common / base_common:.3f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
