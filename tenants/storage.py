"""Files kept through Django's storage API (local folder or S3-compatible), by folder.

A brand's files live in two folders of its own: `<schema>/` for what its chats hold
(attachments, under `<schema>/attachments/`) and `brands/<schema>/` for its branding
(the logo). Both go with the brand (tenants/receivers.py, through tenants/lifecycle.py)."""

from django.core.files.storage import storages


def brand_files_folder(schema_name: str) -> str:
    return schema_name


def brand_branding_folder(schema_name: str) -> str:
    return f"brands/{schema_name}"


def brand_folders(schema_name: str) -> list[str]:
    return [brand_files_folder(schema_name), brand_branding_folder(schema_name)]


def storage_folder_delete(folder: str) -> int:
    """Delete every file under `folder` in the default storage, and the emptied folders
    where the storage has folders at all; returns how many files went."""
    storage = storages["default"]
    folder = folder.strip("/")
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in files:
        storage.delete(f"{folder}/{name}")
        deleted += 1
    for name in folders:
        deleted += storage_folder_delete(f"{folder}/{name}")
    # FileSystemStorage removes an emptied directory this way; an object store has none.
    storage.delete(folder)
    return deleted


def brand_files_delete(schema_name: str) -> int:
    """Every file a brand kept, by its schema's name: for a brand whose schema is gone
    (its rows went with it), or one created under a gone one's name."""
    return sum(storage_folder_delete(folder) for folder in brand_folders(schema_name))
