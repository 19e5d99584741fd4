"""Deleting a brand takes what it kept outside its schema (chat files, logo, search index,
every process's ranker), so nothing outlives it and a brand made anew under its slug
starts empty; another brand keeps all of its own."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from chat.attachments import attachment_upload
from chat.models import Conversation
from knowledge.models import Article, Category
from knowledge.search import search_articles, search_index_rebuild
from knowledge.selectors import suggestions_for
from knowledge.suggest import _rankers
from tenants.models import Brand
from tenants.services import brand_create
from tests.chat.helpers import conversation_active
from tests.factories import PASSWORD, account_manager, agent_staffed
from tests.files import png

pytestmark = pytest.mark.django_db(transaction=True)

PROBLEM = "My refund has not arrived after two weeks"


def brand_with_a_file_an_article_and_a_logo(slug: str) -> tuple[Brand, str]:
    """A brand (made here, or a session brand) holding one chat file, one indexed article
    and a logo; returns the brand and the file's storage path."""
    brand = Brand.objects.filter(slug=slug).first() or brand_create(name=slug.title(), slug=slug, business_hours={}, offline_when_no_agent=False).brand
    with schema_context(brand.schema_name):
        shipping, _ = Category.objects.get_or_create(slug="shipping", defaults={"name": "Shipping"})
        Article.objects.create(
            slug=f"refunds-{slug}", title="Refunds", category=shipping,
            summary="When a refund reaches your account", body="Refunds reach your bank within ten working days.",
        )
        search_index_rebuild()
        assert search_articles(query="refund")
    brand.logo.save("logo.png", ContentFile(png()), save=True)
    brand, conversation, _ = conversation_active(agent=agent_staffed(slug), slug=slug, category="shipping")
    with schema_context(brand.schema_name):
        conversation = Conversation.objects.get(pk=conversation.pk)  # active now
        stored = attachment_upload(brand=brand, conversation=conversation, side="customer", upload=SimpleUploadedFile("note.txt", b"my order number"))
    assert storages["default"].exists(stored.storage_path)
    return Brand.objects.get(pk=brand.pk), stored.storage_path


def test_deleting_a_brand_in_the_admin_leaves_nothing_and_a_new_one_under_its_slug_starts_empty(client, alpha):
    doomed, doomed_file = brand_with_a_file_an_article_and_a_logo("doomed")
    with schema_context(doomed.schema_name):
        suggested = suggestions_for(category=Category.objects.get(slug="shipping"), text=PROBLEM)  # a ranker built
        old_article_id = Article.objects.get(slug="refunds-doomed").pk
        assert [a.pk for a in suggested] == [old_article_id]
    alpha, alpha_file = brand_with_a_file_an_article_and_a_logo("alpha")
    doomed_logo, alpha_logo = doomed.logo.name, alpha.logo.name
    index_root = Path(settings.SEARCH_INDEX_ROOT)
    assert (index_root / "brand_doomed").is_dir() and "brand_doomed" in _rankers

    manager = account_manager()
    assert client.login(username=manager.username, password=PASSWORD)
    response = client.post(f"/admin/tenants/brand/{doomed.pk}/delete/", {"post": "yes"}, HTTP_HOST="localhost")
    assert response.status_code == 302, response.content[:500]

    storage = storages["default"]
    assert not schema_exists("brand_doomed")
    assert not storage.exists(doomed_file) and not storage.exists(doomed_logo)
    assert not (index_root / "brand_doomed").exists() and "brand_doomed" not in _rankers
    # No empty folders left behind on the local storage either.
    assert not Path(settings.MEDIA_ROOT, "brand_doomed").exists()
    assert not Path(settings.MEDIA_ROOT, "brands", "brand_doomed").exists()
    # The other brand keeps everything.
    assert storage.exists(alpha_file) and storage.exists(alpha_logo)
    with schema_context("brand_alpha"):
        assert search_articles(query="refund")

    again = brand_create(name="Doomed again", slug="doomed").brand
    assert again.schema_name == "brand_doomed"
    with schema_context(again.schema_name):
        shipping = Category.objects.create(slug="shipping", name="Shipping")
        # An unrelated article under the old refund article's id: an index or a ranker
        # kept from the deleted brand would answer the refund problem with it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('knowledge_article', 'id'), %s, false)", [old_article_id])
        sizes = Article.objects.create(slug="sizes", title="Shoe sizes", category=shipping, summary="Our size chart", body="Sizes run small.")
        assert sizes.pk == old_article_id
        assert search_articles(query="refund") == []
        assert suggestions_for(category=shipping, text=PROBLEM) == []


def test_files_left_by_a_brand_deleted_without_the_receivers_are_cleared_when_its_slug_is_reused(alpha):
    """A brand deleted before deletion cleaned up (or by SQL) left its folders: a brand made
    under the same schema name must not inherit them."""
    storage = storages["default"]
    leftover = storage.save("brand_reused/attachments/1/leftover", ContentFile(b"a former customer's file"))
    stale_index = Path(settings.SEARCH_INDEX_ROOT, "brand_reused")
    stale_index.mkdir(parents=True, exist_ok=True)
    (stale_index / "MAIN_stale.toc").write_bytes(b"a former brand's index")

    brand_create(name="Reused", slug="reused")

    assert not storage.exists(leftover)
    assert not stale_index.exists()
    with schema_context("brand_reused"):
        assert search_articles(query="refund") == []


def test_a_rolled_back_delete_keeps_the_brands_files(alpha):
    """The files go once the delete commits, not before: a delete that fails keeps them."""
    from django.db import transaction

    doomed, doomed_file = brand_with_a_file_an_article_and_a_logo("kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        Brand.objects.get(pk=doomed.pk).delete()
        raise RuntimeError("the delete fails after the row went")
    assert storages["default"].exists(doomed_file)
    assert Path(settings.SEARCH_INDEX_ROOT, "brand_kept").is_dir()


def test_an_index_removed_by_another_process_is_opened_anew(alpha):
    """Another process deleted the brand (and its index folder) while this one had the
    index open: the next search here starts from an empty index, not the vanished one."""
    import shutil

    with schema_context("brand_alpha"):
        Article.objects.create(slug="refunds", title="Refunds", category=Category.objects.get(slug="shipping"), summary="s", body="b")
        search_index_rebuild()
        assert search_articles(query="refund")
        shutil.rmtree(Path(settings.SEARCH_INDEX_ROOT, "brand_alpha"))
        assert search_articles(query="refund") == []
        search_index_rebuild()
        assert search_articles(query="refund")
