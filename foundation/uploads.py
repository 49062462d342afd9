"""Uploaded files: judged by their content, never by their name, and stored under random names.

Editors of any co-sponsor upload campaign images and outcome evidence, and both are shown to
the public: a hostile editor must not be able to serve HTML, SVG or script from our origin, nor
learn or choose another upload's path. So:

- the content decides the type (magic bytes, then Pillow or the PDF header); a name whose
  extension disagrees with the content is refused;
- images are decoded and encoded again: what we store is pixels only (no appended payload, no
  EXIF location of the office where a photo was taken);
- every stored file gets a random name with the extension of its verified type;
- evidence is downloaded as an attachment (campaigns.views.outcome_evidence).
"""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

PNG, JPEG, PDF = "png", "jpeg", "pdf"
# What each verified type is stored as and served with.
EXTENSIONS = {PNG: ".png", JPEG: ".jpg", PDF: ".pdf"}
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".pdf": "application/pdf"}
_NAMED = {".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".pdf": PDF}
_MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))
_PILLOW_FORMATS = {PNG: "PNG", JPEG: "JPEG"}
# Larger images are refused before decoding: a small file can claim a huge canvas.
MAX_IMAGE_PIXELS = 40_000_000


def _head(upload: Any, size: int = 16) -> bytes:
    upload.seek(0)
    head: bytes = upload.read(size)
    upload.seek(0)
    return head


def sniff(upload: Any) -> str | None:
    """The type the content declares in its first bytes, or None for anything else."""
    head = _head(upload)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _check_name(upload: Any, kind: str) -> None:
    suffix = PurePosixPath(str(getattr(upload, "name", "") or "")).suffix.lower()
    if _NAMED.get(suffix) != kind:
        raise ValidationError(
            _(
                "The file's content does not match its name: it is a %(kind)s file, so its name "
                "must end in %(extension)s."
            ),
            code="mismatch",
            params={"kind": kind.upper(), "extension": EXTENSIONS[kind]},
        )


def _reencoded(upload: Any, kind: str) -> bytes:
    """Decode the whole image and encode its pixels again; refuse what does not decode."""
    refused = ValidationError(
        _("The image could not be read: upload a PNG or JPEG picture."), code="invalid_image"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                if probe.format != _PILLOW_FORMATS[kind]:
                    raise refused
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise ValidationError(_("The image is too large."), code="too_large")
                probe.verify()  # structure and checksums; the image is unusable afterwards
            upload.seek(0)
            with Image.open(upload) as decoded:
                decoded.load()  # every pixel: a truncated or corrupt file fails here
                image = ImageOps.exif_transpose(decoded)  # keep it upright once EXIF is gone
                if kind == JPEG and image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
                out = io.BytesIO()
                if kind == JPEG:
                    image.save(out, format="JPEG", quality=90)
                else:
                    image.save(out, format="PNG", optimize=True)
    except ValidationError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, EOFError) as exc:  # fmt: skip
        raise refused from exc
    finally:
        upload.seek(0)
    return out.getvalue()


def _check_pdf(upload: Any) -> None:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    # The header opens the file (no leading bytes a browser could sniff as HTML) and an
    # end-of-file marker closes it; what is in between is a PDF reader's concern, and the file is
    # only ever downloaded, never shown by the browser.
    if not data.startswith((b"%PDF-1.", b"%PDF-2.")) or b"%%EOF" not in data[-2048:]:
        raise ValidationError(_("The file is not a valid PDF document."), code="invalid_pdf")


def _stored(content: bytes, kind: str) -> ContentFile[bytes]:
    # The name only carries the extension: upload_to (random_name) discards the rest.
    return ContentFile(content, name=f"upload{EXTENSIONS[kind]}")


def clean_image(upload: UploadedFile | Any) -> ContentFile[bytes]:
    """A campaign image: PNG or JPEG by content, re-encoded. Raises ValidationError."""
    kind = sniff(upload)
    if kind not in (PNG, JPEG):
        raise ValidationError(_("Upload a PNG or JPEG picture."), code="invalid_type")
    _check_name(upload, kind)
    return _stored(_reencoded(upload, kind), kind)


def clean_evidence(upload: UploadedFile | Any) -> ContentFile[bytes]:
    """Outcome evidence: a PDF, or a PNG or JPEG picture (re-encoded). Raises ValidationError."""
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(
            _("Upload a PDF, PNG or JPEG file; this file's content is none of them."),
            code="invalid_type",
        )
    _check_name(upload, kind)
    if kind == PDF:
        _check_pdf(upload)
        upload.seek(0)
        return _stored(upload.read(), kind)
    return _stored(_reencoded(upload, kind), kind)


def _pending(value: Any) -> Any:
    """The new upload behind a model field's value, or None for a file stored earlier (it was
    checked when it came in)."""
    if isinstance(value, UploadedFile | ContentFile):
        return value
    if getattr(value, "_committed", True) is False:
        return value.file
    return None


def validate_image(value: Any) -> None:
    """Model-level check, so every form (the admin's too) refuses what clean_image refuses."""
    if (upload := _pending(value)) is not None:
        clean_image(upload)


def validate_evidence(value: Any) -> None:
    if (upload := _pending(value)) is not None:
        clean_evidence(upload)


def stored_extension(name: str) -> str:
    """The extension to serve a stored file with: one of EXTENSIONS, or "" for anything else
    (files stored before uploads were checked by content)."""
    return EXTENSIONS.get(_NAMED.get(PurePosixPath(name).suffix.lower(), ""), "")


def _random_name(folder: str, filename: str) -> str:
    extension = stored_extension(filename)
    # 128 random bits: nobody guesses another upload's address or picks their own.
    return f"{folder}/{secrets.token_urlsafe(16)}{extension}"


def campaign_image_path(instance: object, filename: str) -> str:
    return _random_name("campaigns", filename)


def evidence_path(instance: object, filename: str) -> str:
    return _random_name("evidence", filename)
