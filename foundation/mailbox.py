"""Email addresses as mailboxes: which spellings reach the same inbox, and which we refuse.

One person, one mailbox, one signature: deduplication, the per-mailbox mail cap, and erasure all
key on the keyed hash of ``email_normalize(address)``, so every spelling that a provider delivers
to the same inbox must normalize to the same string. The outbox keys its rows on the same digest
(outbox.Email.recipient_digest), so erasing one spelling erases the mail sent to every other.

Policy for every domain: Unicode NFKC, trimmed, lower-cased, a trailing dot on the domain
dropped, the domain in its IDNA (punycode) form, and a ``+tag`` in the local part dropped
(RFC 5233 sub-addressing: nobody needs two signatures on one petition). On top of that, the
big providers' aliases (``PROVIDERS`` below, the README's signing paragraph repeats it):

============================  ==================  ===========================================
domains                       normalized to       local part
============================  ==================  ===========================================
gmail.com, googlemail.com     gmail.com           dots ignored
yandex.ru, ya.ru, yandex.com, yandex.ru           ``-`` and ``.`` are the same character
yandex.by, yandex.kz,
yandex.ua, narod.ru
proton.me, protonmail.com,    proton.me           dots, hyphens and underscores ignored
protonmail.ch, pm.me
icloud.com, me.com, mac.com   icloud.com          as typed
outlook.com, hotmail.com,     (each its own)      as typed: separate mailboxes per domain
live.com, msn.com
mail.ru, bk.ru, inbox.ru,     (each its own)      as typed: separate mailboxes per domain
list.ru, internet.ru
============================  ==================  ===========================================

Sources (checked 2026-11-30):
- Gmail: dots do not matter and googlemail.com is gmail.com
  (support.google.com/mail/answer/7436150; the googlemail.com alias is Google's own).
- Yandex: "each mailbox on Yandex Mail has aliases in [every Yandex] domain"
  (yandex.com/support/domain/additional/mailbox-alias.xml; yandex.com/support/id/authorization/
  email.html: "addresses using your username on all Yandex domains are linked to you"). That a
  hyphen reaches the login with a dot was shown by the test of issue 10 (6 signatures, one inbox).
- Proton: one account's personal address exists on proton.me, protonmail.com, protonmail.ch and
  pm.me (proton.me/support/addresses-and-aliases); Proton ignores dots, hyphens and underscores
  in the local part (confirmed by Proton support as quoted in sindastra.de/p/1775; not stated in
  the knowledge base itself).
- iCloud: @icloud.com, @me.com and @mac.com with one name are one iCloud account
  (support.apple.com/118230, "About your @icloud.com, @me.com, and @mac.com email addresses").
- Mail.ru: mail.ru, bk.ru, inbox.ru, list.ru (and internet.ru) are separate mailboxes: a login
  taken on mail.ru can be registered by someone else on bk.ru (the family was built that way:
  the extra domains exist for logins already taken). We found no source saying they alias, so we
  do not merge them: merging two people would send the second one's mail to the first.
- Outlook.com/Hotmail/Live: plus addressing only (learn.microsoft.com, "Plus addressing in
  Exchange Online"); the domains are separate namespaces.

What we refuse outright (``email_validate``), because they let one inbox take many spellings
that no normalization can undo safely: quoted or backslash-escaped local parts
(``"victimperson"@gmail.com``) and address literals (``x@[142.250.1.1]``). Old rows holding such
spellings are still normalized as well as we can (quotes and escapes removed).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from disposable_email_domains import blocklist as _DISPOSABLE
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from foundation.ratelimit import keyed_hash


@dataclass(frozen=True)
class Provider:
    domain: str  # the one spelling of the domain that all the provider's domains become
    ignore: str = ""  # characters the provider drops from the local part
    same_as_dot: str = ""  # characters the provider treats as a dot


_GMAIL = Provider("gmail.com", ignore=".")
_YANDEX = Provider("yandex.ru", same_as_dot="-")
_PROTON = Provider("proton.me", ignore=".-_")
_ICLOUD = Provider("icloud.com")

PROVIDERS: dict[str, Provider] = {
    "gmail.com": _GMAIL,
    "googlemail.com": _GMAIL,
    **dict.fromkeys(
        ["yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "narod.ru"],
        _YANDEX,
    ),
    **dict.fromkeys(["proton.me", "protonmail.com", "protonmail.ch", "pm.me"], _PROTON),
    **dict.fromkeys(["icloud.com", "me.com", "mac.com"], _ICLOUD),
}

# RFC 5322 dot-atom with ASCII atext: the only local part we accept (Django's EmailValidator
# also accepts quoted strings, which is how one inbox got many signatures).
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_ESCAPE = re.compile(r"\\(.)")


def _unquote(local: str) -> str:
    """An old row's quoted or escaped local part as the plain name it delivers to."""
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = local[1:-1]
    return _ESCAPE.sub(r"\1", local)


def _domain(domain: str) -> str:
    domain = domain.rstrip(".")
    try:
        return domain.encode("idna").decode("ascii") if domain else domain
    except UnicodeError:
        return domain  # not a valid IDN: keep it as typed; the form has already refused it


def email_normalize(email: str) -> str:
    """The address as a mailbox, for deduplication (policy and sources: the module docstring)."""
    email = unicodedata.normalize("NFKC", email).strip().lower()
    local, _at, domain = email.rpartition("@")
    local = _unquote(local).split("+", 1)[0]
    domain = _domain(domain)
    provider = PROVIDERS.get(domain)
    if provider is not None:
        domain = provider.domain
        for char in provider.same_as_dot:
            local = local.replace(char, ".")
        for char in provider.ignore:
            local = local.replace(char, "")
    return f"{local}@{domain}"


def email_digest(email: str) -> str:
    """The keyed hash of the mailbox: what every table keys a signer or a recipient on."""
    return keyed_hash("email:" + email_normalize(email))


def email_domain(email: str) -> str:
    return email_normalize(email).rpartition("@")[2]


def domain_is_disposable(domain: str) -> bool:
    """True for a listed throwaway domain or any subdomain of one (``a@sub.mailinator.com``)."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE for i in range(len(labels) - 1))


def email_validate(value: str) -> None:
    """The checks on a signer's address beyond Django's EmailField, shared by every way in
    (the sign page, the widget and the API all validate with campaigns.forms.SignatureForm)."""
    email = unicodedata.normalize("NFKC", value).strip()
    local, _at, domain = email.rpartition("@")
    if domain.startswith("["):
        raise ValidationError(
            _("Use an address at a domain name, not at an IP address."), code="address_literal"
        )
    if '"' in local or "\\" in local:
        raise ValidationError(
            _(
                "Write the address without quotation marks or backslashes, "
                "as your mail provider shows it."
            ),
            code="quoted_local_part",
        )
    if not _DOT_ATOM.match(local) or email_normalize(email).startswith("@"):
        raise ValidationError(EmailValidator.message, code="invalid")  # Django's own wording
    if domain_is_disposable(email_domain(email)):
        raise ValidationError(
            _("Please use a permanent email address: disposable addresses are not accepted."),
            code="disposable",
        )
