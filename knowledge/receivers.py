"""The help center keeps two things outside the brand's schema, its search index folder
and each process's ranker; they go with the brand (tenants/lifecycle.py)."""

from tenants.lifecycle import on_brand_gone

from .search import search_index_drop
from .suggest import ranker_forget


@on_brand_gone
def brand_search_forget(schema: str) -> None:
    search_index_drop(schema=schema)
    ranker_forget(schema=schema)
