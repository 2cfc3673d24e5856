"""Reading a raw message with the standard library (`email`, `policy.default`), whatever it
looks like: wrong or missing charsets, HTML only, broken MIME, forwarded messages, signed mail.

`parse(raw)` never lets the `email` package's exceptions out: a header it cannot read is read
again from its raw value, a body in an unknown charset is read as UTF-8 or Windows-1252 with a
note, and what is left (no headers at all) raises `Unparseable` with the reason, for the
quarantine. Text comes out as Tierline stores text: no control characters, no lone surrogates.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.header
import email.headerregistry
import email.utils
import functools
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser

# A nested message (forwarded in a forward in a ...) deeper than this is not read further.
MAX_DEPTH = 12
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but tab and line
# feed, and surrogates (Cs): what no text field may hold.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
SIGNATURE_TYPES = frozenset(
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
)


# Charsets that mail clients declare while writing their larger superset (Outlook's "gb2312" is
# GBK, its "iso-8859-1" Windows-1252, its "shift_jis" Windows-932 ...): read as the superset.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
}


CACHED_HEADER_CHARS = 2000


class _HeaderRegistry(email.headerregistry.HeaderRegistry):
    """`policy.default`'s header factory, with each (name, value) parsed once per process.

    `policy.default` parses a header again each time it is read, and its registry builds a
    new class for each: a message's Content-Type is read a dozen times by the walk, and most
    messages share their MIME-Version, To and Content-Type values. Header objects are
    read-only, so the parsed one is handed out again; a value that fails to parse is not kept
    (it fails again, as before). Only values up to `CACHED_HEADER_CHARS` are kept: a sender
    could otherwise fill the 4,096 places with megabyte-long headers."""

    def __call__(self, name: str, value: object) -> email.headerregistry.BaseHeader:
        if type(name) is str and type(value) is str and len(value) <= CACHED_HEADER_CHARS:
            return _parsed_header(self, name, value)
        return super().__call__(name, value)


@functools.lru_cache(maxsize=4096)
def _parsed_header(
    registry: _HeaderRegistry, name: str, value: str
) -> email.headerregistry.BaseHeader:
    return email.headerregistry.HeaderRegistry.__call__(registry, name, value)


# What messages are read with: `policy.default`, its headers parsed once (`_HeaderRegistry`).
POLICY = policy.default.clone(header_factory=_HeaderRegistry())


class Unparseable(Exception):
    """The bytes are not a mail message we can read; the message says why."""


@dataclass
class MailFile:
    """A file carried by the message (an attachment or an inline image)."""

    name: str
    content_type: str
    data: bytes
    content_id: str = ""  # an inline image's Content-ID, without <>: HTML shows it as cid:...


@dataclass
class ParsedMail:
    message_id: str = ""
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    # Message-IDs this one answers: In-Reply-To first, then References newest first.
    in_reply_to: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    files: list[MailFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bounced_address: str = ""


# --- text as Tierline stores it -------------------------------------------------------------


def clean_text(value: str | None) -> str:
    """`value` without what no text field may hold: lone surrogates (bytes the `email` package
    could not decode) become U+FFFD, control characters other than tab and line breaks go,
    line breaks become LF."""
    text = value or ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def one_line(value: str | None) -> str:
    return " ".join(clean_text(value).split())


# --- headers --------------------------------------------------------------------------------


def raw_header_values(msg: Message, name: str) -> list[str]:
    """Every value of header `name` as it came (unfolded), without the header parser: never
    raises, whatever the value holds."""
    wanted = name.lower()
    values = []
    for key, value in msg.raw_items() if hasattr(msg, "raw_items") else msg.items():
        if str(key).lower() == wanted:
            values.append(re.sub(r"\r?\n[ \t]+", " ", str(value)).strip())
    return values


def _decoded(raw: str) -> str:
    """An RFC 2047 encoded value (=?utf-8?q?...?=) decoded, leniently."""
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return raw


def header(msg: Message, name: str) -> str:
    """The first value of header `name`, decoded, as one line of clean text ("" if absent)."""
    try:
        value = msg.get(name)
        if value is None:
            return ""
        return one_line(str(value))
    except Exception:  # noqa: BLE001 - a header the parser chokes on is read raw
        raw = raw_header_values(msg, name)
        return one_line(_decoded(raw[0])) if raw else ""


def addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, each address with an @."""
    found: list[tuple[str, str]] = []
    try:
        for value in msg.get_all(name) or []:
            for address in getattr(value, "addresses", ()):
                found.append((address.display_name or "", address.addr_spec or ""))
    except Exception:  # noqa: BLE001 - fall back to the lenient parser below
        found = []
    if not found:
        raw = [_decoded(value) for value in raw_header_values(msg, name)]
        found = email.utils.getaddresses(raw)
    pairs = []
    for display, address in found:
        address = one_line(address).strip("<>")
        if "@" in address and " " not in address and len(address) <= 320:
            pairs.append((one_line(display)[:200], address))
    return pairs


# The end of a message's headers (the first empty line), looked for within this many bytes.
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
HEADERS_SCAN = 256 * 1024


def sender_of_raw(raw: bytes) -> str:
    """The From address of `raw` as `parse` reads it, lower-cased, from its headers alone (the
    body is not parsed); "" when there is none or the headers can't be read."""
    end = _HEADERS_END.search(raw, 0, HEADERS_SCAN)
    try:
        headers = email.message_from_bytes(raw[: end.end() if end else HEADERS_SCAN], policy=POLICY)
        found = addresses(headers, "from")
    except Exception:  # noqa: BLE001  the processing says what is wrong with it
        return ""
    return found[0][1].lower() if found else ""


def message_ids(msg: Message, name: str) -> list[str]:
    """The `<id>`s in header `name` (Message-ID, In-Reply-To, References), in order."""
    ids = []
    for value in raw_header_values(msg, name):
        ids.extend(f"<{found}>" for found in _MESSAGE_ID.findall(value))
    return ids


def message_id_of(msg: Message) -> str:
    ids = message_ids(msg, "message-id")
    return clean_text(ids[0]) if ids else ""


# --- bodies ---------------------------------------------------------------------------------


def _part_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: the bytes as they are
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def decode_text(data: bytes, charset: str | None, notes: list[str]) -> str:
    """Bytes of a text part as text: its charset, else UTF-8, else Windows-1252 (which reads
    any byte), with a note when the declared charset was wrong or unknown."""
    charset = SUPERSETS.get((charset or "").lower(), charset)
    if charset:
        try:
            return data.decode(charset)
        except LookupError:
            notes.append(f"Unknown charset “{one_line(charset)[:40]}”.")
        except UnicodeDecodeError:
            notes.append(f"The text was not valid {one_line(charset)[:40]}.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if charset:
            return (
                data.decode(charset, "replace")
                if _known(charset)
                else data.decode("cp1252", "replace")
            )
        return data.decode("cp1252", "replace")


def _known(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def text_of(part: Message, notes: list[str]) -> str:
    charset = None
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return clean_text(decode_text(_part_bytes(part), charset, notes))


class _TextFromHtml(HTMLParser):
    """The readable text of an HTML body: scripts, styles and heads dropped, blocks on their
    own lines, links' addresses kept after their text."""

    BLOCKS = frozenset(
        {
            "p",
            "div",
            "br",
            "tr",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
            "hr",
            "section",
            "article",
            "header",
            "footer",
        }
    )
    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.href:
            if self.href.startswith(("http://", "https://")) and self.href not in self.parts[-1:]:
                self.parts.append(f" <{self.href}>")
            self.href = None

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """What an HTML-only message says, as plain text (for the ticket and for search)."""
    parser = _TextFromHtml()
    with contextlib.suppress(Exception):  # HTMLParser is lenient; belt and braces
        parser.feed(html)
        parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- the walk -------------------------------------------------------------------------------


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        return disposition == "attachment" or bool(part.get_filename())
    except Exception:  # noqa: BLE001
        return True


def _content_id(part: Message) -> str:
    """The part's Content-ID without its angle brackets ("" if none or unreadable)."""
    raw = raw_header_values(part, "Content-ID")
    return one_line(raw[0]).strip("<> ")[:250] if raw else ""


def _filename(part: Message, number: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if name:
        return one_line(_decoded(name))[:200]
    subtype = part.get_content_subtype() or "bin"
    return f"part-{number}.{re.sub(r'[^a-z0-9]', '', subtype.lower())[:10] or 'bin'}"


def _body_parts(msg: Message) -> tuple[Message | None, Message | None]:
    """The text/plain and text/html parts that are the message's body (either may be None)."""
    plain = html = None
    if isinstance(msg, EmailMessage):
        try:
            plain = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
        except Exception:  # noqa: BLE001 - broken structure: walk by hand below
            plain = html = None
    if plain is None and html is None and not msg.is_multipart():
        ctype = msg.get_content_type()
        if ctype == "text/html":
            html = msg
        elif ctype.startswith(("text/", "multipart/")) or ctype == "message/delivery-status":
            # multipart/* without a part: a boundary that never came; its body is its text
            plain = msg
    if plain is None and html is None:
        for part in _iter_leaves(msg):
            ctype = part.get_content_type()
            if ctype == "text/plain" and not _is_attachment(part):
                plain = part
                break
            if ctype == "text/html" and not _is_attachment(part) and html is None:
                html = part
    return plain, html


def _iter_leaves(part: Message, depth: int = 0):
    if depth > MAX_DEPTH:
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _iter_leaves(sub, depth + 1)
    else:
        yield part


class _Walk:
    def __init__(self, parsed: ParsedMail) -> None:
        self.parsed = parsed
        self.extra_text: list[str] = []
        self.count = 0

    def visit(self, part: Message, skip: set[int], depth: int) -> None:
        if depth > MAX_DEPTH:
            self.parsed.notes.append("Parts nested too deep were not read.")
            return
        if id(part) in skip:
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self.forwarded(part, depth)
            return
        if part.is_multipart():
            payload = part.get_payload()
            for sub in payload if isinstance(payload, list) else []:
                if isinstance(sub, Message):
                    self.visit(sub, skip, depth + 1)
            return
        if ctype in SIGNATURE_TYPES:
            self.parsed.notes.append("The message was signed (the signature was not checked).")
            return
        self.count += 1
        if ctype == "text/calendar":
            self.parsed.notes.append("The message carried a calendar invitation.")
        readable = ctype.startswith(("text/", "multipart/")) or ctype == "message/delivery-status"
        if readable and ctype != "text/html" and not _is_attachment(part):
            text = text_of(part, self.parsed.notes).strip()
            if text:
                self.extra_text.append(text)
            return
        if ctype == "text/html" and not _is_attachment(part):
            return  # an alternative of a text part already read
        data = _part_bytes(part)
        if data:
            name = _filename(part, self.count)
            self.parsed.files.append(
                MailFile(name=name, content_type=ctype, data=data, content_id=_content_id(part))
            )

    def forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            return
        plain, html = _body_parts(inner)
        body = text_of(plain, self.parsed.notes) if plain is not None else ""
        if not body.strip() and html is not None:
            body = html_to_text(text_of(html, self.parsed.notes))
        lines = ["---------- Forwarded message ----------"]
        for name in ("From", "Date", "Subject", "To"):
            value = header(inner, name)
            if value:
                lines.append(f"{name}: {value}")
        self.extra_text.append("\n".join(lines) + "\n\n" + body.strip())
        if inner.is_multipart():  # its files (its text is in the block above)
            self.visit(inner, {id(p) for p in (plain, html) if p is not None}, depth + 1)


def _bounced_address(msg: Message) -> str:
    """The Final-Recipient (else Original-Recipient) of a delivery status report."""
    try:
        for part in msg.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            blocks = part.get_payload()
            text = ""
            if isinstance(blocks, list):
                text = "\n".join(
                    f"{k}: {v}"
                    for block in blocks
                    if isinstance(block, Message)
                    for k, v in block.items()
                )
            else:
                text = str(blocks)
            for field_name in ("final-recipient", "original-recipient"):
                match = re.search(
                    rf"^{field_name}:\s*[^;\n]*;\s*<?([^\s<>]+@[^\s<>]+)>?",
                    text,
                    re.IGNORECASE | re.MULTILINE,
                )
                if match:
                    return one_line(match.group(1))[:320]
    except Exception:  # noqa: BLE001
        return ""
    return ""


def load(raw: bytes) -> EmailMessage:
    """The message object of `raw`; Unparseable when it holds no message at all."""
    if not raw.strip():
        raise Unparseable("the message is empty")
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
    except Exception as exc:  # noqa: BLE001
        raise Unparseable(f"the MIME structure can't be read ({exc.__class__.__name__})") from exc
    if not list(msg.keys()):
        raise Unparseable("no mail headers")
    return msg


def parse(raw: bytes, *, loaded: EmailMessage | None = None) -> tuple[EmailMessage, ParsedMail]:
    """The message object and what Tierline reads from it. `loaded`: `load(raw)` already done
    (the gateway read the Message-ID from it), so the bytes are not parsed twice."""
    msg = loaded if loaded is not None else load(raw)
    parsed = ParsedMail()
    parsed.message_id = message_id_of(msg)
    parsed.subject = header(msg, "subject")
    senders = addresses(msg, "from")
    if senders:
        parsed.sender_name, parsed.sender = senders[0]
    parsed.to = [address for _, address in addresses(msg, "to")]
    parsed.cc = [address for _, address in addresses(msg, "cc")]
    replied = message_ids(msg, "in-reply-to")
    references = list(reversed(message_ids(msg, "references")))
    parsed.in_reply_to = list(dict.fromkeys(replied + references))[:50]
    try:
        plain, html = _body_parts(msg)
        if html is not None:
            parsed.html = text_of(html, parsed.notes)
        if plain is not None:
            parsed.text = text_of(plain, parsed.notes)
        elif parsed.html:
            parsed.text = html_to_text(parsed.html)
        walk = _Walk(parsed)
        walk.visit(msg, {id(p) for p in (plain, html) if p is not None}, 0)
        extra = [t for t in walk.extra_text if t]
        if extra:
            parsed.text = "\n\n".join([parsed.text.strip(), *extra]).strip()
    except RecursionError as exc:
        raise Unparseable("the MIME structure nests too deep") from exc
    if msg.get_content_type() == "multipart/report":
        parsed.bounced_address = _bounced_address(msg)
    if getattr(msg, "defects", None):
        kinds = sorted({type(defect).__name__ for defect in msg.defects})
        parsed.notes.append("MIME defects: " + ", ".join(kinds[:5]) + ".")
    parsed.notes = list(dict.fromkeys(parsed.notes))
    return msg, parsed
