"""A brand's ranker is told its articles changed in that brand's cache keys, whatever
schema the connection is in when the transaction finally commits."""

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from knowledge.suggest import _versions, ranker_articles_changed, ranker_outcomes_changed


@pytest.mark.django_db(transaction=True)
def test_a_change_made_in_a_brand_and_committed_after_leaving_it_reaches_that_brand(alpha):
    with schema_context("brand_alpha"):
        before = _versions()
    with transaction.atomic():
        with schema_context("brand_alpha"):
            ranker_articles_changed()
            ranker_outcomes_changed()
        # The outer block commits here, back in the public schema.
    with schema_context("brand_alpha"):
        after = _versions()
    assert after[0] != before[0] and after[1] != before[1]
