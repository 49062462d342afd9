"""What of an official's emailed reply we keep: their own words, never the signer's letter.

A reply usually quotes the letter it answers, and the letter carries the signer's name, city, own
words and sometimes address. The signer chose to write to the official, not to be shown to every
co-sponsor or published. So before an inbound reply is stored (and again whenever an old one is
shown), the quoted part is cut off and every occurrence of the signer's details is redacted.

A small function of our own rather than a dependency: the reply parsers on PyPI know English
headers only (and the best known had its last release in 2020); officials here answer in German,
French, Russian and English, and what must go is known exactly (the letters we sent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[…]"

# A line that starts the quoted message: everything from it on is the letter, not the reply.
_HEADER_LINES = [
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"исходное сообщение|пересылаемое сообщение|forwarded message)\s*-{2,}",
    r"_{10,}",  # Outlook's separator above its From:/Sent: block
]
_HEADER = re.compile(r"^\s*(?:" + "|".join(_HEADER_LINES) + r")\s*$", re.I | re.M)
# A From: line counts only when a Sent/Date line follows (Outlook's quoted header block).
_FROM_BLOCK = re.compile(
    r"^\s*(?:from|von|de|от|отправитель)\s*:[^\n]*\n\s*(?:sent|gesendet|envoyé|date|datum|"
    r"отправлено|дата)\s*:",
    re.I | re.M,
)
# "On <date>, <name> wrote:", "Am <date> schrieb <name>:", "Le <date>, <name> a écrit :",
# "<date>, <name> написал(а):" — the attribution may wrap onto a second line.
_ATTRIBUTION = re.compile(
    r"^[^\n]*(?:\n[^\n]*)?(?:\bwrote|\bschrieb[^\n]*|\ba écrit|написал(?:\(а\)|а)?)\s*:\s*$",
    re.I | re.M,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:on|am|le)\b|\d", re.I)


@dataclass(frozen=True)
class SignerDetails:
    """What one letter told the official about its signer."""

    name: str = ""
    city: str = ""
    email: str = ""
    letter_body: str = ""  # the letter as sent: the signer's own words are in it


def strip_quoted(text: str) -> str:
    """The reply without the message it quotes: from the first reply header on, and every line
    starting with ">", are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text)
    for pattern in (_HEADER, _FROM_BLOCK):
        found = pattern.search(text)
        if found:
            cut = min(cut, found.start())
    for found in _ATTRIBUTION.finditer(text):
        line = found.group(0).lstrip("\n")
        # "wrote:" inside a sentence of the official's own is not an attribution line
        if _ATTRIBUTION_START.match(line) or "@" in line or "<" in line:
            cut = min(cut, found.start())
            break
    kept = [line for line in text[:cut].split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def _phrase(value: str) -> re.Pattern[str] | None:
    """A pattern for ``value`` as a whole word or phrase, across any spacing or line breaks."""
    words = value.split()
    if not words or len("".join(words)) < 2:
        return None
    body = r"[\s>]+".join(re.escape(word) for word in words)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", re.I)


def _sentences(text: str) -> list[str]:
    """Pieces of the letter long enough that finding them in a reply means it quotes the letter."""
    pieces = re.split(r"(?<=[.!?…])\s+|\n+", text)
    return [piece.strip() for piece in pieces if len(piece.strip()) >= 20]


def redact(text: str, signers: Iterable[SignerDetails]) -> str:
    """``text`` with every occurrence of each signer's name (and each part of it), city, email
    address and the sentences of their letter replaced by a mark."""
    patterns: list[re.Pattern[str]] = []
    for signer in signers:
        values = [signer.letter_body, *_sentences(signer.letter_body), signer.email]
        if signer.email:
            values.append(signer.email.split("@", 1)[0])
        values += [signer.name, *(part for part in signer.name.split() if len(part) >= 3)]
        values.append(signer.city)
        for value in values:
            pattern = _phrase(value or "")
            if pattern is not None:
                patterns.append(pattern)
    # Longest first, so a whole sentence goes before the name inside it leaves a fragment.
    patterns.sort(key=lambda pattern: len(pattern.pattern), reverse=True)
    for pattern in patterns:
        text = pattern.sub(REDACTED, text)
    return text


def reply_clean(text: str, signers: Iterable[SignerDetails]) -> str:
    """What we keep of an emailed reply: the official's own words, the signer's details marked
    out."""
    return redact(strip_quoted(text), list(signers))
