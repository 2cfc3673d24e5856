"""Attachment checks benchmark: what checking a file's name and content and drawing an image's
preview cost, per file kind.

    python bench/attachments.py                  200 rounds per kind
    python bench/attachments.py --rounds 50      a quick pass

In-process, no database (desk.services.validate_upload reads only settings; the preview is the
thumbnail attach() draws and stores for an image). Prints one table: median and p95 in ms.
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def files() -> dict[str, tuple[str, bytes]]:
    from PIL import Image

    def image(fmt: str, size: tuple[int, int]) -> bytes:
        out = io.BytesIO()
        Image.effect_noise(size, 64).convert("RGB").save(out, format=fmt)
        return out.getvalue()

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>" * 20000)
        for n in range(40):
            archive.writestr(f"word/media/image{n}.png", os.urandom(20000))
    return {
        "text, 1 MB": ("server.log", b"2026-11-29 12:00:00 ERROR printer offline\n" * 24000),
        "PDF, 2 MB": ("scan.pdf", b"%PDF-1.7\n" + os.urandom(2 * 2**20)),
        "docx, 40 parts": ("report.docx", docx.getvalue()),
        "PNG 1920x1080": ("screen.png", image("PNG", (1920, 1080))),
        "JPEG 4000x3000": ("photo.jpg", image("JPEG", (4000, 3000))),
    }


def timed(rounds: int, work) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=200, help="timed rounds per kind (default 200)")
    args = p.parse_args()
    os.environ.setdefault("TIERLINE_DATA_DIR", tempfile.mkdtemp(prefix="tl-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierline.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tierline.desk import services
    from tierline.desk.services.attachments import thumbnail_png

    print(f"Tierline attachment checks: {args.rounds} rounds per kind, in-process")
    print(f"{'file':<18} {'size':>8} {'check p50':>10} {'check p95':>10} {'preview p50':>12}")
    for label, (name, content) in files().items():
        upload = SimpleUploadedFile(name, content)
        services.validate_upload(upload)  # warm up; and it must pass
        p50, p95 = timed(args.rounds, lambda u=upload: services.validate_upload(u))
        preview = "-"
        if name.endswith((".png", ".jpg")):
            rounds = max(args.rounds // 10, 5)
            work = lambda c=content: thumbnail_png(io.BytesIO(c))  # noqa: E731
            preview = f"{timed(rounds, work)[0]:.1f}"
        print(f"{label:<18} {len(content) / 2**20:>6.1f}MB {p50:>10.2f} {p95:>10.2f} {preview:>12}")
    print("(ms; the preview, at most 800x800, is drawn once when the file is attached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
