"""Articles an agent sends in a chat teach the suggestion ranker, in that brand only: a
help-center link of the brand in an agent's reply counts as "solved" for the customer's
problem once the chat ends; notes, the customer's own links and other sites' do not."""

import pytest
from django_tenants.utils import schema_context

from chat import services
from chat.messages import message_send
from chat.models import Conversation, Message
from knowledge.models import Category, SuggestionOutcome
from knowledge.ranking import Problem
from knowledge.services import article_upsert
from knowledge.suggest import brand_ranker_get
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed

PROBLEM = "the zip on my jacket keeps splitting open"


def _articles():
    shipping = Category.objects.get(slug="shipping")
    common = dict(category=shipping, body="Body.", tags=[])
    repairs = article_upsert(slug="repairs", title="Repairs and spare parts", summary="How we repair gear you bought from us.", **common)
    warranty = article_upsert(slug="warranty", title="Warranty claims", summary="What the warranty covers and how to claim.", **common)
    noted = article_upsert(slug="noted", title="Care of technical jackets", summary="Washing and proofing.", **common)
    return repairs, warranty, noted


@pytest.mark.django_db(transaction=True)
def test_an_article_the_agent_sent_counts_as_solved_when_the_chat_ends(alpha, beta):
    agent = agent_staffed(alpha)
    with schema_context("brand_alpha"):
        repairs, warranty, noted = _articles()
        before = [s.article_id for s in brand_ranker_get().rank(Problem(text=PROBLEM), limit=3)]
    with schema_context("brand_beta"):
        beta_article = article_upsert(category=Category.objects.get(slug="setup"), slug="warranty", title="Warranty claims",
                                      summary="What the warranty covers and how to claim.", body="Body.", tags=[])
    brand, conversation, _ = conversation_active(agent=agent, summary=PROBLEM)
    with schema_context(brand.schema_name):
        send = lambda body, **kw: message_send(conversation_id=conversation.id, body=body, **kw)  # noqa: E731
        send("Have a look at https://alpha.localhost:8000/support/articles/warranty/ please", sender=Message.Sender.AGENT, agent=agent)
        send("Also https://elsewhere.example/support/articles/repairs/", sender=Message.Sender.AGENT, agent=agent)
        send("note to self: /support/articles/noted/", sender=Message.Sender.AGENT, agent=agent, internal=True)
        send("is it /support/articles/repairs/ ?", sender=Message.Sender.CUSTOMER)
        solved = SuggestionOutcome.objects.filter(outcome=SuggestionOutcome.Outcome.SOLVED)
        assert solved.count() == 0  # nothing is learned before the chat ends
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=agent)
        assert list(solved.values_list("article_id", "problem")) == [(warranty.pk, f"{PROBLEM} P-9")]
        # Ending twice learns nothing more.
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=agent)
        assert solved.count() == 1
        after = brand_ranker_get().rank(Problem(text=PROBLEM), limit=3)
        assert warranty.pk in before and after[0].article_id == warranty.pk and after[0].signals["learned"] > 0
    with schema_context("brand_beta"):
        assert SuggestionOutcome.objects.count() == 0 and beta_article.pk
