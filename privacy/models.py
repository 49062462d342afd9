"""What privacy keeps of its own: nothing personal, only how old keyed hashes map to new ones."""

from __future__ import annotations

from django.db import models


class DigestAlias(models.Model):
    """A mailbox's keyed hash under an older normalization, and its hash now.

    Erase links already mailed name the signer by the digest of their day
    (campaigns.signing.digest_token); when the normalization changes (foundation/mailbox.py),
    the migration that re-keys the rows records the old digest here, so those links keep
    erasing everything. Holds two hashes and nothing else.
    """

    old_digest = models.CharField(max_length=64, unique=True)
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"digest alias #{self.pk}"
