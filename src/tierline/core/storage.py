"""Attachment storage: files live under internal, content-addressed names in the data dir."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage


class ContentAddressedStorage(FileSystemStorage):
    """Stores each file under `ab/cd/<sha256><ext>`: the uploaded name never reaches the disk.

    The same content uploaded twice is kept once.
    """

    def save(self, name, content, max_length=None):  # noqa: D401 - Django's signature
        digest = hashlib.sha256()
        if hasattr(content, "chunks"):
            for chunk in content.chunks():
                digest.update(chunk)
        else:
            digest.update(content.read())
        content.seek(0)
        suffix = PurePosixPath(name or "").suffix.lower()[:10]
        if not suffix.isascii() or not suffix[1:].isalnum():
            suffix = ""
        hexdigest = digest.hexdigest()
        internal = f"{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}{suffix}"
        if self.exists(internal):
            return internal
        return super().save(internal, content, max_length=max_length)
