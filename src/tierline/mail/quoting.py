"""What a reply says, without the history it quotes and the signature under it.

The timeline shows the new part of an emailed reply; the whole message stays one click away
(the original, and the raw .eml). Clients mark the history differently: Gmail and Apple
("On Mon, ... wrote:"), Outlook ("-----Original Message-----", a rule of underscores, or a
"From: / Sent: / To:" block), "> " quoting, and mobile sign-offs ("Sent from my iPhone").
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*((on|le|am|el|op|il|em)\b.{0,400}\b(wrote|a écrit|schrieb|escribió|schreef|ha scritto|"
    r"escreveu)\b.{0,200}|"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.{0,300}<[^>]+@[^>]+>|"
    r"(?=.*[@\d]).{0,400}(написал|napisał|skrev|kirjoitti|ha escrito))\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine)"
    r"\s*-{2,}|_{20,}|-- |--|sent from my \w+.*|get outlook for \w+.*|"
    r"sent from (mail|yahoo mail|outlook) for .*)\s*$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^\s*\*?(from|von|de|sent|date|to|subject|cc)\*?\s*:", re.IGNORECASE)


def _outlook_block(lines: list[str], index: int) -> bool:
    """An Outlook header block: `From:` followed within a few lines by two more of Sent/Date,
    To, Subject."""
    if not re.match(r"^\s*\*?(from|von|de)\*?\s*:", lines[index], re.IGNORECASE):
        return False
    following = lines[index + 1 : index + 6]
    return sum(1 for line in following if _HEADER_LINE.match(line)) >= 2


def trim_reply(text: str) -> str:
    """`text` cut before the first line that starts quoted history or a signature, and without
    trailing `>` lines. The whole text when cutting would leave nothing."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        joined = line + " " + lines[index + 1] if index + 1 < len(lines) else line
        if (
            _SEPARATORS.match(line)
            or _ATTRIBUTION.match(line)
            or (not line.lstrip().startswith(">") and _ATTRIBUTION.match(joined))
            or _outlook_block(lines, index)
        ):
            cut = index
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    trimmed = "\n".join(kept).strip()
    if not trimmed and cut < len(lines):
        # Written under the quote (bottom-posting): the lines that are not quoted, after the
        # attribution, up to a signature.
        after = []
        for index in range(cut + 1, len(lines)):
            line = lines[index]
            if _SEPARATORS.match(line) or _outlook_block(lines, index):
                break
            if not line.lstrip().startswith(">"):
                after.append(line)
        trimmed = "\n".join(after).strip()
    return trimmed or text.strip()
