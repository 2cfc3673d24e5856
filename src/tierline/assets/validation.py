"""What the inventory accepts, shared by the code that writes assets: the refusal a person
reads (`AssetError`), the text rules of an asset's fields (`clean_text`) and the lifecycle's
moves (`NEXT_STATUSES`).

`services` (people's edits) and `importing` (the CSV import's checks) both read these; the
services then call `importing` for a preview, one way only, so neither imports the other
back. `services` re-exports the three names, which is where callers find them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from tierline.assets.models import Asset, Status
from tierline.core.text import normalise_text

# The lifecycle: where an asset may go from each status. Disposed is the end.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Status.ORDERED: (Status.IN_STOCK, Status.RETIRED),
    Status.IN_STOCK: (Status.DEPLOYED, Status.IN_REPAIR, Status.RETIRED),
    Status.DEPLOYED: (Status.IN_STOCK, Status.IN_REPAIR, Status.RETIRED),
    Status.IN_REPAIR: (Status.IN_STOCK, Status.DEPLOYED, Status.RETIRED),
    Status.RETIRED: (Status.IN_STOCK, Status.DISPOSED),
    Status.DISPOSED: (),
}


class AssetError(ValueError):
    """A change the inventory refuses; the message says why, for a person."""


def clean_text(name: str, value: str | None) -> str:
    """One of the asset's text fields as stored: typed text rules, stripped, within its length
    (AssetError naming the field otherwise). The CSV import checks its cells with this too."""
    label = str(Asset._meta.get_field(name).verbose_name).capitalize()
    try:
        text = normalise_text(value or "", label=label, multiline=False).strip()
    except ValidationError as error:
        raise AssetError(error.messages[0]) from None
    limit = Asset._meta.get_field(name).max_length
    if len(text) > limit:
        raise AssetError(f"{label} is longer than {limit} characters.")
    return text
