"""A brand's files (chat attachments, logo) go with the brand (tenants/lifecycle.py)."""

import logging

from tenants.lifecycle import on_brand_gone
from tenants.storage import brand_files_delete

logger = logging.getLogger(__name__)


@on_brand_gone
def brand_files_forget(schema: str) -> None:
    deleted = brand_files_delete(schema)
    if deleted:
        logger.info("Deleted %d file(s) of brand schema %s", deleted, schema)
