"""Exports sealed to an organization's public key (NaCl sealed boxes: X25519 + XSalsa20-Poly1305).

Format, line by line so it streams in constant memory:
    COALITION-SEALED-CSV 1
    <base64 of one sealed CSV row>
    ...
Only the private key opens a row; we never hold it. bin/decrypt-export turns a file back into CSV.
"""

from __future__ import annotations

import base64
import binascii

from nacl.public import PublicKey, SealedBox

HEADER = "COALITION-SEALED-CSV 1\n"


def public_key_parse(text: str) -> PublicKey:
    """Parse a base64 public key; ValueError with a readable message if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The key is not valid base64.") from exc
    if len(raw) != 32:
        raise ValueError("A public key is 32 bytes (44 characters of base64).")
    return PublicKey(raw)


def seal_line(box: SealedBox, line: str) -> str:
    return base64.b64encode(box.encrypt(line.encode())).decode() + "\n"


def sealer(public_key_b64: str) -> SealedBox:
    return SealedBox(public_key_parse(public_key_b64))
