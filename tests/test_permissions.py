"""The object-level permission table: every route, every method, every role, one expected answer.

One scenario (``world``): a live campaign co-sponsored by Alpha Aid (A) and Beta Bridge (B), Gamma
Group (C) a member that does not co-sponsor it, a draft campaign of A, three signatures (Olga,
confirmed, consented to A only; Boris, confirmed, consented to B only; Pavel, pending), a letter
campaign and Olga's two letters (one sent, one queued), a petition delivery, an outcome, a reply, a
revision of the campaign's text, an open coalition decision (B has voted) and an invitation to
join A.

The roles, in the column order of the table:

- ``anonymous``: no account, no link.
- ``signer``: Olga. Signers have no account: she is anonymous, holding her own emailed links.
  Everyone else holds a forged link (``"forged"``) on the signer-link routes.
- ``viewer``, ``editor``: of A.
- ``admin_of_other_org``: C's admin working from C's own URLs at A's objects (the campaign, A's
  memberships, A's invitation, the campaign's emails and deliveries): the IDOR attempt. On routes
  that name no object of A (C's own team, C's campaign list) that is simply C's own workspace.
- ``admin_of_other_org_as_a``: the same person putting A's slug in the URL.
- ``admin_of_cosponsor``: A's admin, with two-factor sign-in.
- ``staff``: ``is_staff``, no memberships, signed in through allauth with their second factor
  (staff pages need both: test_staff_without_two_factor_is_sent_to_set_it_up). Staff run the
  service; they do not act for organizations and do not export signers (privacy page), so
  organization routes answer 403.

Expected answers: ``200``/``400``/``403``/``404``/``405``; ``302`` (a redirect that is not a
sign-in page); ``login`` (302 to allauth's sign-in); ``slogin`` (302 to the staff admin's
sign-in); ``mfa`` (302 to setting up two-factor sign-in: the route shows, exports or sends
signers' personal data, which needs two-factor whatever the role, and the world's editor has none);
a ``w`` suffix means the request is allowed to write (``302w``). Every other cell, denied or
allowed, must leave the database exactly as it was: POSTs carry invalid data (``_probe=1``), so an
allowed form answers with its errors and writes nothing.

Every named route must have a row here (``test_every_route_has_a_row``): a new view cannot skip
the table. Known access bugs are cells marked ``xfail(strict=True)`` with the fix in the reason.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core import signing
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from api import services as api_services
from campaigns import services as campaign_services
from campaigns.models import (
    Campaign,
    JointAct,
    OutcomeEvent,
    Petition,
    Signature,
    SupporterExport,
)
from campaigns.signing import digest_token, token_make
from members import services as member_services
from members.models import Decision, Invitation, Membership, Organization, User
from outbox.models import Email
from outreach import services as outreach_services
from outreach.models import Contact, Letter, LetterCampaign, PetitionDelivery, Reply
from tests.campaigns.conftest import LiveCampaign, issue_area_make, live_campaign_make
from tests.factories import UserFactory, make_admin, make_member, make_staff, sign_in
from tests.once import built_once
from tests.outreach.conftest import contacts_make, letters_make
from webhooks.models import Delivery as WebhookDelivery
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "signer",
    "viewer",
    "editor",
    "admin_of_other_org",
    "admin_of_other_org_as_a",
    "admin_of_cosponsor",
    "staff",
)
FORGED = "forged"
PROBE = {"_probe": "1"}  # makes every form bound, and invalid


# --- the scenario ---------------------------------------------------------------------------


@dataclass
class World:
    live: LiveCampaign
    a: Organization
    b: Organization
    c: Organization
    admin_a: User
    admin_b: User
    admin_c: User
    viewer: User
    editor: User
    staff: User
    staff_secret: str  # the staff member's TOTP secret: they sign in with both factors
    editor_membership: Membership
    campaign: Campaign
    petition: Petition
    draft_campaign: Campaign
    draft_petition: Petition
    olga: Signature  # confirmed, consented to A only, shows her full name
    boris: Signature  # confirmed, consented to B only, anonymous
    pavel: Signature  # pending, would have consented to A and B, asked for his full name
    letter_campaign: LetterCampaign
    letter: Letter  # Olga's letter; its email is still queued
    delivery: PetitionDelivery
    outcome: OutcomeEvent
    reply: Reply  # entered by A (a summary), so published
    decision: Decision
    invitation: Invitation
    invitation_token: str
    # Personal data that no response in the table may show (see Row.personal for Olga's email).
    act: JointAct  # B's pending proposal to close the campaign (a joint act)
    never_shown: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)  # the officials the letters target

    @property
    def signer_tokens(self) -> dict[str, str]:
        return {
            "confirm": token_make(self.olga.pk, "confirm"),
            "not_me": token_make(self.olga.pk, "not-me"),
            "withdraw": token_make(self.olga.pk, "withdraw"),
            "erase": digest_token(self.olga.email_digest),
            "letter": token_make(self.olga.pk, "letter"),
            "survey": token_make(self.letter.pk, "survey"),
        }


def _sign(
    petition: Petition, name: str, email: str, *, consents: list[Organization], display: str
) -> Signature:
    signature = campaign_services.signature_create(
        petition=petition, name=name, email=email, country="DE", display=display, consents=consents
    )
    assert signature is not None
    return signature


@pytest.fixture(scope="module")
def world_built_once(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[World | None]:
    """The scenario, built once per module in a transaction rolled back after its last test
    (tests/once.py): each test runs in a savepoint inside it. None in browser test modules."""
    yield from built_once(request, django_db_blocker, _world_make)


@pytest.fixture
def world(world_built_once: World | None, db: None) -> World:
    """The scenario; a copy of its objects per test, so one test's changes to them stay its own
    (its writes to the database are rolled back with its savepoint). A browser test gets its own,
    committed, world."""
    if world_built_once is None:
        return _world_make()
    return copy.deepcopy(world_built_once)


@pytest.fixture
def contacts(world: World) -> list[Contact]:
    """The world's officials: in this module ``contacts`` are those the scenario was built with."""
    return world.contacts


def _world_make() -> World:
    issue_area = issue_area_make()
    live = live_campaign_make(issue_area)
    contacts = contacts_make()
    letters = letters_make(live)
    a, b = live.orgs
    admin_a, admin_b = live.admins
    viewer = make_member(a, Membership.Role.VIEWER, mfa=False)
    editor = make_member(a, Membership.Role.EDITOR, mfa=False)
    staff, staff_secret = make_staff()
    draft = campaign_services.campaign_create(
        organization=a,
        user=admin_a,
        issue_area=issue_area,
        title_en="Quiet draft about visas",
        summary_en="Not public yet.",
    )
    draft_petition = campaign_services.petition_create(
        campaign=draft,
        organization=a,
        user=admin_a,
        title_en="Secret draft petition",
        text_en="Not public yet.",
        addressed_to="Nobody yet",
    )
    olga = _sign(
        live.petition,
        "Olga Smirnova",
        "olga.smirnova@example.org",
        consents=[a],
        display=Signature.Display.FULL_NAME,
    )
    boris = _sign(
        live.petition,
        "Boris Quietov",
        "boris.quietov@example.net",
        consents=[b],
        display=Signature.Display.ANONYMOUS,
    )
    pavel = _sign(
        live.petition,
        "Pavel Pendingsky",
        "pavel.pendingsky@example.com",
        consents=[a, b],
        display=Signature.Display.FULL_NAME,
    )
    for signature in (olga, boris):
        campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
        signature.refresh_from_db()
    letter, sent = outreach_services.letters_send(letter_campaign=letters, signature=olga)
    # The worker delivered one letter; the counting job folded the signatures. Charts have data.
    Email.objects.filter(pk=sent.email_id).update(status=Email.Status.SENT, sent_at=timezone.now())
    while campaign_services.signature_counts_fold():
        pass
    delivery = outreach_services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    outcome = campaign_services.outcome_record(
        campaign=live.campaign,
        organization=a,
        user=admin_a,
        kind=OutcomeEvent.Kind.MEETING,
        date=timezone.localdate(),
        description_en="Met the Commission.",
    )
    reply = outreach_services.reply_record(
        campaign_id=live.campaign.pk, organization=a, contact=contacts[0], summary="We will look."
    )
    decision = member_services.decision_propose(
        kind=Decision.Kind.AMEND_CHARTER,
        proposed_by=a,
        user=admin_a,
        title="Meet twice a year",
        description="Two general meetings instead of one.",
    )
    member_services.vote_cast(decision=decision, organization=b, user=admin_b, choice="agree")
    campaign_services.campaign_update(  # so the public history has a revision to show
        campaign=live.campaign, organization=a, user=editor, summary_en="Accounts for everyone."
    )
    act = campaign_services.campaign_close_propose(
        campaign=live.campaign,
        organization=b,
        user=admin_b,
        result=Campaign.Result.WON,
        result_summary="Guidance published.",
    )
    invitation, invitation_token = member_services.invitation_create(
        organization=a,
        email="newcomer@example.org",
        role=Membership.Role.EDITOR,
        invited_by=admin_a,
    )
    return World(
        live=live,
        a=a,
        b=b,
        c=live.outsider,
        admin_a=admin_a,
        admin_b=admin_b,
        admin_c=live.outsider_admin,
        viewer=viewer,
        editor=editor,
        staff=staff,
        staff_secret=staff_secret,
        editor_membership=Membership.objects.get(user=editor, organization=a),
        campaign=live.campaign,
        petition=live.petition,
        draft_campaign=draft,
        draft_petition=draft_petition,
        olga=olga,
        boris=boris,
        pavel=pavel,
        letter_campaign=letters,
        letter=letter,
        delivery=delivery,
        outcome=outcome,
        reply=reply,
        decision=decision,
        invitation=invitation,
        invitation_token=invitation_token,
        act=act,
        never_shown=[
            pavel.name,
            "Pendingsky",
            pavel.email,
            boris.name,
            boris.email,
            olga.email,
            "reporter.secret@example.org",  # a case reporter's address (evidence/)
            # A reporter's own words: shown only to a moderator who gave a logged reason.
            "Private words of the reporter.",
        ],
        contacts=contacts,
    )


@dataclass(frozen=True)
class Actor:
    role: str
    user: User | None
    org: Organization  # whose slug this person puts in organization URLs
    tokens: dict[str, str]
    secret: str = ""  # a TOTP secret: this person signs in through allauth with both factors


def actor_for(world: World, role: str) -> Actor:
    forged = dict.fromkeys(world.signer_tokens, FORGED)
    users: dict[str, tuple[User | None, Organization]] = {
        "anonymous": (None, world.a),
        "signer": (None, world.a),
        "viewer": (world.viewer, world.a),
        "editor": (world.editor, world.a),
        "admin_of_other_org": (world.admin_c, world.c),
        "admin_of_other_org_as_a": (world.admin_c, world.a),
        "admin_of_cosponsor": (world.admin_a, world.a),
        "staff": (world.staff, world.a),
    }
    user, org = users[role]
    tokens = world.signer_tokens if role == "signer" else forged
    return Actor(role, user, org, tokens, world.staff_secret if role == "staff" else "")


# --- URL arguments per kind of route --------------------------------------------------------

Kwargs = Callable[[World, Actor], dict[str, Any]]


def fixed(**kwargs: Any) -> Kwargs:
    return lambda w, a: kwargs


def live_campaign(w: World, a: Actor) -> dict[str, Any]:
    return {"slug": w.campaign.slug}


def draft_campaign(w: World, a: Actor) -> dict[str, Any]:
    return {"slug": w.draft_campaign.slug}


def live_petition(w: World, a: Actor) -> dict[str, Any]:
    return {"slug": w.petition.slug}


def draft_petition(w: World, a: Actor) -> dict[str, Any]:
    return {"slug": w.draft_petition.slug}


def og_image_of(kind: str, *, draft: bool = False) -> Kwargs:
    """The current link-preview image of the world's live (or draft) campaign or petition."""

    def kwargs(w: World, a: Actor) -> dict[str, Any]:
        from campaigns import og_image

        if kind == "campaign":
            obj: Any = w.draft_campaign if draft else w.campaign
        else:
            obj = w.draft_petition if draft else w.petition
        obj.refresh_from_db()  # the counts as folded, as the view reads them
        card = og_image.card_for(obj, language="ru")
        return {"kind": kind, "slug": obj.slug, "lang": "ru", "digest": card.digest}

    return kwargs


def token(kind: str, **extra: str) -> Kwargs:
    return lambda w, a: {"token": a.tokens[kind], **extra}


def own_org(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug}


def own_org_slug(w: World, a: Actor) -> dict[str, Any]:
    return {"slug": a.org.slug}


def member_object(attribute: str) -> Kwargs:
    return lambda w, a: {"slug": a.org.slug, "pk": getattr(w, attribute).pk}


def at_campaign(**extra: Any) -> Kwargs:
    return lambda w, a: {"org": a.org.slug, "slug": w.campaign.slug, **extra}


def at_email(action: str) -> Kwargs:
    return lambda w, a: {
        "org": a.org.slug,
        "slug": w.campaign.slug,
        "pk": w.letter.email_id,
        "action": action,
    }


def at_act(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug, "slug": w.campaign.slug, "pk": w.act.pk}


def at_update(w: World, a: Actor) -> dict[str, Any]:
    """A draft update to the campaign's signers, written by A's admin (made before the
    snapshot, so only the request's own writes count)."""
    from updates import services as update_services

    update = update_services.update_draft(
        campaign=w.campaign, organization=w.a, user=w.admin_a, subject_en="News", body_en="Text."
    )
    return {"org": a.org.slug, "slug": w.campaign.slug, "pk": update.pk}


def at_outcome(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug, "slug": w.campaign.slug, "event": w.outcome.pk}


def list_token(w: World, a: Actor) -> dict[str, Any]:
    """Olga's one-click unsubscribe token (from a reminder or an update); a forged one else."""
    from outbox.suppression import ALL, list_token_for

    if a.role != "signer":
        return {"token": FORGED}
    return {"token": list_token_for(digest=w.olga.email_digest, scope=ALL)}


def at_letter_campaign(action: str) -> Kwargs:
    return lambda w, a: {
        "org": a.org.slug,
        "slug": w.campaign.slug,
        "pk": w.letter_campaign.pk,
        "action": action,
    }


def _webhook_of_a(w: World) -> tuple[Endpoint, WebhookDelivery]:
    """A's webhook endpoint with one delivered event (made on first use, like screening_org)."""
    endpoint, _created = Endpoint.objects.get_or_create(
        organization=w.a,
        defaults={
            "url": "https://crm.alpha.example.org/hooks",
            "events": ["campaign.status_changed"],
            "secret": "whsec_" + "A" * 44,
        },
    )
    delivery, _created = WebhookDelivery.objects.get_or_create(
        endpoint=endpoint,
        event_id="msg_permission_table",
        defaults={
            "event_type": "campaign.status_changed",
            "occurred_at": timezone.now(),
            "payload": '{"type":"campaign.status_changed"}',
            "status": WebhookDelivery.Status.DELIVERED,
            "attempts": 1,
            "expires_at": timezone.now(),
        },
    )
    return endpoint, delivery


def at_webhook(**extra: Any) -> Kwargs:
    return lambda w, a: {"org": a.org.slug, "pk": _webhook_of_a(w)[0].pk, **extra}


def at_webhook_delivery(w: World, a: Actor) -> dict[str, Any]:
    endpoint, delivery = _webhook_of_a(w)
    return {"org": a.org.slug, "pk": endpoint.pk, "delivery": delivery.pk}


def at_reply(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug, "slug": w.campaign.slug, "pk": w.reply.pk}


def at_delivery(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug, "slug": w.campaign.slug, "pk": w.delivery.pk}


def screening_org(w: World, a: Actor) -> dict[str, Any]:
    """An application nobody has screened yet: no role here is its member, so no one sees it."""
    organization, _created = Organization.objects.get_or_create(
        slug="unscreened-applicant",
        defaults={
            "name": "Unscreened Applicant",
            "country_of_registration": "DE",
            "countries_of_operation": ["DE"],
            "website": "https://unscreened.example.org/",
            "mission": "Not looked at by anyone yet.",
            "languages": ["en"],
            "legal_status": Organization.LegalStatus.NGO,
            "funding_disclosure": "Unknown.",
            "contact_email": "unscreened@example.org",
            "status": Organization.Status.SCREENING,
        },
    )
    return {"slug": organization.slug}


def staff_dashboard(w: World, a: Actor) -> dict[str, Any]:
    return {"org": "staff", "slug": w.campaign.slug}


def vote_as_own_org(w: World, a: Actor) -> dict[str, Any]:
    return {**PROBE, "organization": a.org.slug}


def own_token(w: World, a: Actor) -> dict[str, Any]:
    """An API token of A's (the admins of A revoke it from their page)."""
    _token, _plain = api_services.token_create(
        organization=w.a, user=w.admin_a, name="CRM", read=True, write=True
    )
    return {"slug": a.org.slug, "pk": _token.pk}


# A well-formed token nobody issued: what a person without one of their own can send.
FORGED_API_TOKEN = "coa_000000000000_" + "A" * 43


def osdi_token(w: World, a: Actor) -> str:
    """The API token each person holds: A's admin A's, C's admin C's (also when putting A's
    petition in the URL), everyone else none (a forged one). Tokens take read and write."""
    holders = {"admin_of_cosponsor": (w.a, w.admin_a)}
    holders |= dict.fromkeys(("admin_of_other_org", "admin_of_other_org_as_a"), (w.c, w.admin_c))
    if a.role not in holders:
        return FORGED_API_TOKEN
    organization, user = holders[a.role]
    _token, plain = api_services.token_create(
        organization=organization, user=user, name="CRM", read=True, write=True
    )
    return plain


def _token_client(w: World, a: Actor) -> Client:
    return Client(headers={"OSDI-API-Token": osdi_token(w, a)})


# --- case reports (evidence/) ------------------------------------------------------------------


def _case_report(w: World) -> Any:
    """A confirmed bank-accounts report whose reporter asked A (and only A) to contact them."""
    from evidence import services as evidence_services
    from evidence.models import CaseDesk, CaseReport, Term

    existing = CaseReport.objects.filter(email_digest__isnull=False).order_by("pk").first()
    if existing is not None:
        return existing
    area = w.campaign.issue_area
    # The default lists, as a deployed database has them (a transactional test earlier in the
    # run may have emptied the tables, data migrations' rows too).
    evidence_services.terms_ensure()
    CaseDesk.objects.get_or_create(organization=w.a, issue_area=area)
    report = evidence_services.report_create(
        issue_area=area,
        email="reporter.secret@example.org",
        country="LV",
        month=timezone.localdate().replace(day=1),
        choices={"event": Term.objects.filter(issue_area=area, vocabulary="event").first()},
        others={},
        documents=[],
        account="Private words of the reporter.",
        consents=[w.a],
    )
    assert report is not None
    return evidence_services.report_confirm(
        token=evidence_services.token_make(report.pk, "confirm")
    )


def at_case_report(w: World, a: Actor) -> dict[str, Any]:
    return {"org": a.org.slug, "pk": _case_report(w).pk}


def case_confirm_token(w: World, a: Actor) -> dict[str, Any]:
    from evidence import services as evidence_services

    return {"token": evidence_services.token_make(_case_report(w).pk, "confirm")}


def case_consents_token(w: World, a: Actor) -> dict[str, Any]:
    from evidence import services as evidence_services

    return {"token": evidence_services.consents_token(_case_report(w))}


def case_area(w: World, a: Actor) -> dict[str, Any]:
    return {"area": w.campaign.issue_area.slug}


def case_data(fmt: str) -> Kwargs:
    return lambda w, a: {"area": w.campaign.issue_area.slug, "fmt": fmt}


def frozen_summary(w: World, a: Actor) -> dict[str, Any]:
    from evidence import services as evidence_services
    from evidence.models import EvidenceSummary

    summary = EvidenceSummary.objects.filter(letter_campaign=w.letter_campaign).first()
    if summary is None:
        summary = EvidenceSummary.objects.create(
            campaign=w.campaign, issue_area=w.campaign.issue_area,
            letter_campaign=w.letter_campaign, attached_by=w.a,
        )  # fmt: skip
        evidence_services.summary_freeze(summary=summary, outcome=None)
    return {"pk": summary.pk}


# --- the emigre agenda (agenda/) ----------------------------------------------------------------


def _agenda_proposal(w: World, status: str) -> Any:
    """A proposal of the agenda in ``status`` ("unconfirmed", "in_review", "open", "awaiting"),
    made through the services (an "awaiting" one is moved there directly: the threshold is 100)."""
    from agenda import services as agenda_services
    from agenda.models import Proposal

    existing = Proposal.objects.filter(title=f"Agenda {status}").first()
    if existing is not None:
        return existing
    proposal = agenda_services.proposal_create(
        title=f"Agenda {status}",
        description="Banks close accounts of residents.",
        issue_area=w.campaign.issue_area,
        countries=["DE"],
        email=f"agenda.{status}@example.org",
    )
    assert proposal is not None
    if status != "unconfirmed":
        agenda_services.link_confirm(token=agenda_services.token_make("p", proposal.pk))
    if status in {"open", "awaiting"}:
        agenda_services.proposal_publish(proposal=proposal, organization=w.a, user=w.admin_a)
    if status == "awaiting":
        Proposal.objects.filter(pk=proposal.pk).update(
            status=status, submitted_at=timezone.now(), answer_due=timezone.now()
        )
    proposal.refresh_from_db()
    return proposal


def agenda_public(w: World, a: Actor) -> dict[str, Any]:
    return {"pk": _agenda_proposal(w, "open").pk}


def agenda_in_review(w: World, a: Actor) -> dict[str, Any]:
    return {"pk": _agenda_proposal(w, "in_review").pk}


def agenda_token(w: World, a: Actor) -> dict[str, Any]:
    """The proposer's own confirmation link for the signer; a forged one for everyone else."""
    from agenda import services as agenda_services

    if a.role != "signer":
        return {"token": FORGED}
    return {"token": agenda_services.token_make("p", _agenda_proposal(w, "unconfirmed").pk)}


def at_agenda(status: str) -> Kwargs:
    return lambda w, a: {"org": a.org.slug, "pk": _agenda_proposal(w, status).pk}


def at_agenda_motion(action: str) -> Kwargs:
    """B's motion to decline the awaiting proposal, open for objections."""

    def kwargs(w: World, a: Actor) -> dict[str, Any]:
        from agenda import services as agenda_services
        from agenda.models import AnswerMotion

        proposal = _agenda_proposal(w, "awaiting")
        motion = AnswerMotion.objects.filter(proposal=proposal).first()
        if motion is None:
            motion = agenda_services.motion_propose(
                proposal=proposal, organization=w.b, user=w.admin_b,
                kind=AnswerMotion.Kind.DECLINE, reason="Not for us.",
            )  # fmt: skip
        return {"org": a.org.slug, "pk": motion.pk, "action": action}

    return kwargs


# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    route: str
    kwargs: Kwargs
    get: str
    post: str
    variant: str = ""
    data: Callable[[World, Actor], dict[str, Any]] | None = None
    json: bool = False
    # The method by which an admin acts for the organization: an admin without two-factor
    # sign-in is sent to set it up (test_admin_without_two_factor_is_sent_to_set_it_up).
    admin_acts: str = ""
    # Roles whose response may contain Olga's email: those who get A's export (she consented
    # to A). No other page shows it, her own link pages included.
    personal: tuple[str, ...] = ()
    bug: str = ""  # a known access bug: every cell is xfail(strict=True) with this reason
    # The OSDI API: no session counts there, only the organization's API token that each
    # person holds (osdi_token). Without it (token=False) every role is anonymous to it.
    token: bool = False

    @property
    def label(self) -> str:
        return f"{self.route}[{self.variant}]" if self.variant else self.route

    def expected(self, method: str) -> dict[str, str]:
        cells = (self.get if method == "GET" else self.post).split()
        if len(cells) == 1:
            cells = cells * len(ROLES)
        assert len(cells) == len(ROLES), f"{self.label} {method}: {len(cells)} cells"
        return dict(zip(ROLES, cells, strict=True))


_SIGN_SENT_DRAFT = (
    "campaigns.views.sign_sent looks the petition up with get_object_or_404(Petition, slug=slug), "
    "so a draft campaign's petition title is public at /petitions/<slug>/sent/. Fix: "
    "petition = selectors.petition_public(slug=slug); if petition is None: raise Http404"
)

# fmt: off
#                   anonymous signer viewer editor other  other_as_a admin  staff
TABLE: list[Row] = [
    # --- public pages: the same answer for everyone ---
    Row("home", fixed(), get="200", post="200"),
    # development only (debug mode and the development mail backend): absent here for everyone
    Row("dev-mailbox", fixed(), get="404", post="404"),
    Row("campaigns:list", fixed(), get="200", post="200"),
    Row("campaigns:campaign", live_campaign, get="200", post="200"),
    Row("campaigns:campaign", draft_campaign, variant="draft", get="404", post="404"),
    Row("campaigns:history", live_campaign, get="200", post="200"),
    Row("campaigns:history", draft_campaign, variant="draft", get="404", post="404"),
    Row("campaigns:pow_challenge", fixed(), get="200", post="405"),
    Row("campaigns:petition", live_petition, get="200", post="400"),
    Row("campaigns:petition", draft_petition, variant="draft", get="404", post="404"),
    Row("campaigns:embed", live_petition, get="200", post="400"),
    Row("campaigns:embed", draft_petition, variant="draft", get="404", post="404"),
    # Link-preview images: public, the same for everyone; a draft's title stays unpublished.
    Row("campaigns:og_image", og_image_of("campaign"), get="200", post="200"),
    Row("campaigns:og_image", og_image_of("petition"), variant="petition", get="200", post="200"),
    Row("campaigns:og_image", og_image_of("campaign", draft=True), variant="draft",
        get="404", post="404"),
    # The world's outcome has no evidence file (tests/campaigns/test_uploads.py has one).
    Row("campaigns:evidence", lambda w, a: {"pk": w.outcome.pk}, get="404", post="404"),
    Row("campaigns:sign_sent", live_petition, get="200", post="200"),
    Row("campaigns:sign_sent", draft_petition, variant="draft", get="404", post="404",
        ),
    Row("members:directory", fixed(), get="200", post="200"),
    Row("members:organization", lambda w, a: {"slug": w.a.slug}, get="200", post="200"),
    Row("members:organization", screening_org, variant="screening", get="404", post="404"),
    Row("members:decisions", fixed(), get="200", post="200"),
    Row("members:decision", lambda w, a: {"pk": w.decision.pk}, data=vote_as_own_org,
        admin_acts="POST",
        get="200",
        post="login     login  403    403    400    403        400    403"),
    Row("members:invitation", fixed(token=FORGED),
        get="200",
        post="login     login  200    200    200    200        200    200"),
    Row("privacy:privacy", fixed(), get="200", post="200"),
    Row("results:results", fixed(), get="200", post="200"),
    Row("results:staff_figures", fixed(),
        get="slogin    slogin slogin slogin slogin slogin     slogin 200",
        post="slogin    slogin slogin slogin slogin slogin     slogin 200"),
    Row("api:petitions", fixed(), get="200", post="405"),
    Row("api:petition", live_petition, get="200", post="405"),
    Row("api:petition", draft_petition, variant="draft", get="404", post="405"),
    Row("api:signatures", live_petition, json=True, get="405", post="400"),
    Row("api:signatures", draft_petition, variant="draft", json=True, get="405", post="404"),
    Row("api:openapi", fixed(), get="200", post="405"),
    Row("api:not_found", fixed(path="nope"), get="404", post="404"),
    # --- the OSDI API: with a session only, nobody is anyone there ---
    Row("osdi:api-root", fixed(), get="401", post="405"),
    Row("osdi:petitions", fixed(), get="401", post="405"),
    Row("osdi:petition", live_petition, get="401", post="405"),
    Row("osdi:signatures", live_petition, get="401", post="405"),
    Row("osdi:people", fixed(), get="401", post="405"),
    Row("osdi:record_signature_helper", live_petition, json=True, get="405", post="401"),
    Row("osdi:openapi-json", fixed(), get="200", post="405"),
    Row("osdi:not_found", fixed(path="nope"), get="404", post="404"),
    # --- the OSDI API with each person's organization token (osdi_token); a valid token's use
    # is recorded (last_used_at), and reads of supporters go to the export log ---
    Row("osdi:api-root", fixed(), variant="token", token=True,
        get="401       401    401    401    200w   200w       200w   401",
        post="405"),
    Row("osdi:petitions", fixed(), variant="token", token=True,
        get="401       401    401    401    200w   200w       200w   401",
        post="405"),
    Row("osdi:petition", live_petition, variant="token", token=True,
        get="401       401    401    401    404w   404w       200w   401",
        post="405"),
    Row("osdi:petition", draft_petition, variant="token-draft", token=True,
        get="401       401    401    401    404w   404w       200w   401",
        post="405"),
    Row("osdi:signatures", live_petition, variant="token", token=True,
        personal=("admin_of_cosponsor",),
        get="401       401    401    401    404w   404w       200w   401",
        post="405"),
    Row("osdi:people", fixed(), variant="token", token=True, personal=("admin_of_cosponsor",),
        get="401       401    401    401    200w   200w       200w   401",
        post="405"),
    Row("osdi:record_signature_helper", live_petition, variant="token", token=True, json=True,
        get="405",
        post="401       401    401    401    400w   400w       400w   401"),
    # --- an organization's API tokens (they read supporters: admins with two-factor) ---
    Row("api_tokens:tokens", own_org_slug, admin_acts="GET",
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    400    403        400    403"),
    Row("api_tokens:revoke", own_token, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    # --- signer links: Olga holds hers, everyone else a forged one ---
    Row("campaigns:confirm", token("confirm"),
        get="200",
        post="400       302    400    400    400    400        400    400"),
    Row("campaigns:not_me", token("not_me"),
        get="200",
        post="400       200w   400    400    400    400        400    400"),
    Row("campaigns:withdraw", token("withdraw"),
        get="200",
        post="400       200w   400    400    400    400        400    400"),
    # One-click unsubscribe (RFC 8058): the token is the authority, no login, no CSRF token.
    Row("outbox:unsubscribe", list_token,
        get="404       200    404    404    404    404        404    404",
        post="404       200w   404    404    404    404        404    404"),
    Row("privacy:erase", token("erase"),
        get="400       200    400    400    400    400        400    400",
        post="400       200w   400    400    400    400        400    400"),
    # The probe names no letter version: refused (400), nothing sent (issue 10, item 1).
    Row("outreach:letter", token("letter"),
        get="400       200    400    400    400    400        400    400",
        post="400       400    400    400    400    400        400    400"),
    Row("outreach:survey", token("survey", answer="yes"),
        get="400       200    400    400    400    400        400    400",
        post="400       200w   400    400    400    400        400    400"),
    # --- any signed-in person ---
    Row("members:dashboard", fixed(),
        get="login     login  200    200    200    200        200    200",
        post="login     login  200    200    200    200        200    200"),
    Row("members:apply", fixed(),
        get="login     login  200    200    200    200        200    200",
        post="login     login  200    200    200    200        200    200"),
    # --- an organization's own workspace ---
    Row("members:team", own_org_slug, admin_acts="GET",
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    200    403        200    403"),
    Row("members:propose", own_org_slug, admin_acts="GET",
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    200    403        200    403"),
    Row("members:export_key", own_org_slug, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    302    403        302    403"),
    Row("members:membership_role", member_object("editor_membership"), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    Row("members:membership_remove", member_object("editor_membership"), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    302w   404    403        302w   403"),
    Row("members:invitation_revoke", member_object("invitation"), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    Row("campaigns:dashboard", own_org, admin_acts="GET",
        get="login     login  200    200    200    403        200    403",
        post="login     login  200    200    200    403        200    403"),
    Row("campaigns:create", own_org, admin_acts="GET",
        get="login     login  403    200    200    403        200    403",
        post="login     login  403    400    400    403        400    403"),
    # --- the co-sponsored campaign, from each person's organization ---
    Row("campaigns:manage", at_campaign(), admin_acts="GET",
        get="login     login  200    200    404    403        200    403",
        post="login     login  200    200    404    403        200    403"),
    Row("campaigns:edit", at_campaign(), admin_acts="GET",
        get="login     login  403    200    404    403        200    403",
        post="login     login  403    400    404    403        400    403"),
    Row("campaigns:petition_create", at_campaign(), admin_acts="GET",
        get="login     login  403    200    404    403        200    403",
        post="login     login  403    400    404    403        400    403"),
    Row("campaigns:close", at_campaign(), admin_acts="GET",
        get="login     login  403    200    404    403        200    403",
        post="login     login  403    400    404    403        400    403"),
    # Joint acts: only an admin answers for a co-sponsor; the probe is no valid answer.
    Row("campaigns:act_answer", at_act, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    # Only the proposing organization (B) withdraws: A's editor and admin are refused.
    Row("campaigns:act_withdraw", at_act, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    302    404    403        302    403"),
    Row("campaigns:outcome_create", at_campaign(), admin_acts="GET",
        get="login     login  403    200    404    403        200    403",
        post="login     login  403    400    404    403        400    403"),
    Row("campaigns:export", at_campaign(), admin_acts="GET", personal=("admin_of_cosponsor",),
        get="login     login  403    mfa    404    403        200w   403",
        post="login     login  403    mfa    404    403        200w   403"),
    # Updates to signers: editors and admins of a co-sponsor, all with two-factor (signer mail).
    Row("updates:list", at_campaign(), admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        200    403"),
    Row("updates:create", at_campaign(), admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        400    403"),
    Row("updates:edit", at_update, admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        400    403"),
    Row("updates:preview", at_update, admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  405    405    405    405        405    405"),
    Row("updates:propose", at_update, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    404    403        302w   403"),
    Row("updates:from_outcome", at_outcome, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    404    403        302w   403"),
    Row("campaigns:action", at_campaign(action="invite"), variant="invite", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    302    404    403        302    403"),
    Row("campaigns:action", at_campaign(action="go_live"), variant="go_live", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    302    404    403        302    403"),
    Row("campaigns:action", at_campaign(action="accept"), variant="accept", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    Row("campaigns:action", at_campaign(action="decline"), variant="decline", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    Row("campaigns:action", at_campaign(action="withdraw"), variant="withdraw", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    Row("campaigns:action", at_campaign(action="endorse"), variant="endorse", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    Row("campaigns:action", at_campaign(action="bogus"), variant="bogus", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    404    404    403        404    403"),
    Row("outreach:campaign", at_campaign(), admin_acts="GET",
        get="login     login  200    200    404    403        200    403",
        post="login     login  200    200    404    403        200    403"),
    Row("outreach:letter_campaign_create", at_campaign(), admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        400    403"),
    # A test letter (sample signer only) is written to the outbox; the world's letter campaign
    # is approved already, so asking for approval again changes nothing.
    Row("outreach:letter_campaign_action", at_letter_campaign("test"), variant="test",
        admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    404    403        302w   403"),
    Row("outreach:letter_campaign_action", at_letter_campaign("propose"), variant="propose",
        admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    404    403        302    403"),
    Row("outreach:letter_campaign_action", at_letter_campaign("bogus"), variant="bogus",
        admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    404    403        404    403"),
    Row("outreach:reply_add", at_campaign(), admin_acts="GET",
        get="login     login  403    200    404    403        200    403",
        post="login     login  403    400    404    403        400    403"),
    # One reply, redacted: an emailed one may quote a signer's letter, so two-factor for every
    # role; editors and admins publish it (the world's reply is entered, so published already).
    Row("outreach:reply", at_reply, admin_acts="GET",
        get="login     login  mfa    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        302    403"),
    Row("outreach:delivery_create", at_campaign(), admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        400    403"),
    Row("outreach:email_action", at_email("retry"), variant="retry", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    Row("outreach:email_action", at_email("cancel"), variant="cancel", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    Row("outreach:delivery", at_delivery, admin_acts="GET",
        get="login     login  403    403    404    403        200    403",
        post="login     login  403    403    404    403        302w   403"),
    Row("results:campaign_dashboard", at_campaign(), admin_acts="GET",
        get="login     login  200    200    404    403        200    403",
        post="login     login  200    200    404    403        200    403"),
    Row("results:campaign_dashboard", staff_dashboard, variant="staff",
        get="login     login  404    404    404    404        404    200",
        post="login     login  404    404    404    404        404    200"),
    # --- webhooks: the organization's admins only (they decide where supporters' data goes) ---
    Row("webhooks:endpoints", own_org, admin_acts="GET",
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    400    403        400    403"),
    Row("webhooks:endpoint", at_webhook(), admin_acts="GET",
        get="login     login  403    403    404    403        200    403",
        post="login     login  403    403    404    403        400    403"),
    Row("webhooks:endpoint_rotate", at_webhook(), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        200w   403"),
    Row("webhooks:endpoint_enable", at_webhook(), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302    403"),
    Row("webhooks:endpoint_delete", at_webhook(), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    Row("webhooks:delivery_replay", at_webhook_delivery, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        302w   403"),
    # --- case reports (evidence/): public pages, the reporter's link, then moderators (admins and
    # editors of any member organization, two-factor: they read what reporters wrote). Only the
    # organization the reporter consented to (A) reaches the contact page.
    Row("evidence:index", fixed(), get="200", post="200"),
    Row("evidence:report", case_area, get="200", post="400"),
    Row("evidence:report", fixed(area="nope"), variant="unknown", get="404", post="404"),
    Row("evidence:sent", fixed(), get="200", post="200"),
    Row("evidence:confirm", case_confirm_token, get="200", post="200"),
    Row("evidence:confirm", fixed(token=FORGED), variant="forged", get="400", post="400"),
    Row("evidence:consents", case_consents_token, get="200", post="400"),
    Row("evidence:consents", fixed(token=FORGED), variant="forged", get="400", post="400"),
    Row("evidence:evidence", case_area, get="200", post="200"),
    Row("evidence:data", case_data("csv"), get="200", post="200"),
    Row("evidence:data", case_data("json"), variant="json", get="200", post="200"),
    Row("evidence:data", case_data("xml"), variant="xml", get="404", post="404"),
    Row("evidence:summary", frozen_summary, get="200", post="200"),
    Row("evidence:summary", fixed(pk=999999), variant="missing", get="404", post="404"),
    Row("evidence:moderation", own_org, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    200    403        200    403"),
    Row("evidence:log", own_org, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    200    403        200    403"),
    Row("evidence:terms", own_org, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    400    403        400    403"),
    Row("evidence:term_retire", own_org, admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    400    403        400    403"),
    Row("evidence:desks", own_org, admin_acts="GET",
        data=lambda w, a: {"areas": ["nope"]},
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    400    403        400    403"),
    Row("evidence:summaries", own_org, admin_acts="GET",
        get="login     login  403    200    200    403        200    403",
        post="login     login  403    400    400    403        400    403"),
    Row("evidence:report_review", at_case_report, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    400    403        400    403"),
    Row("evidence:account", at_case_report, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    400    403        400    403"),
    Row("evidence:contact", at_case_report, admin_acts="GET",
        get="login     login  403    mfa    404    403        200    403",
        post="login     login  403    mfa    404    403        400    403"),
    # --- the emigre agenda (agenda/): public pages and the proposer's link; then moderators
    # (admins and editors of member organizations, two-factor) and answers (admins only) ---
    Row("agenda:list", fixed(), get="200", post="200"),
    Row("agenda:propose", fixed(), get="200", post="400"),
    Row("agenda:sent", fixed(), get="200", post="200"),
    Row("agenda:proposal", agenda_public, get="200", post="400"),
    Row("agenda:proposal", agenda_in_review, variant="in_review", get="404", post="404"),
    Row("agenda:confirm", agenda_token,
        get="400       200    400    400    400    400        400    400",
        post="400       302w   400    400    400    400        400    400"),
    Row("agenda:staff_moderate", agenda_public,
        get="slogin    slogin slogin slogin slogin slogin     slogin 200",
        post="slogin    slogin slogin slogin slogin slogin     slogin 400"),
    Row("agenda:workspace", own_org, admin_acts="GET",
        get="login     login  403    mfa    200    403        200    403",
        post="login     login  403    mfa    200    403        200    403"),
    Row("agenda:moderate", at_agenda("in_review"), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    mfa    400    403        400    403"),
    Row("agenda:answer", at_agenda("awaiting"), admin_acts="GET",
        get="login     login  403    403    200    403        200    403",
        post="login     login  403    403    400    403        400    403"),
    Row("agenda:motion_action", at_agenda_motion("object"), admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    400    403        400    403"),
    Row("agenda:motion_action", at_agenda_motion("withdraw"), variant="withdraw",
        admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    400    403        400    403"),
    Row("agenda:motion_action", at_agenda_motion("bogus"), variant="bogus", admin_acts="POST",
        get="login     login  405    405    405    405        405    405",
        post="login     login  403    403    404    403        404    403"),
]
# fmt: on


@dataclass(frozen=True)
class Expect:
    status: int
    to: str = ""  # "login", "staff-login", "mfa-setup", or "" for any other redirect
    writes: bool = False

    @classmethod
    def parse(cls, cell: str) -> Expect:
        if cell in {"login", "slogin", "mfa"}:
            return cls(
                302, to={"login": "login", "slogin": "staff-login", "mfa": "mfa-setup"}[cell]
            )
        return cls(int(cell.rstrip("w")), writes=cell.endswith("w"))

    @property
    def label(self) -> str:
        if self.to:
            return f"302-{self.to}"
        return f"{self.status}+writes" if self.writes else str(self.status)


def _cases() -> list[Any]:
    cases = []
    for row in TABLE:
        for method in ("GET", "POST"):
            for role, cell in row.expected(method).items():
                expect = Expect.parse(cell)
                marks = [pytest.mark.xfail(strict=True, reason=row.bug)] if row.bug else []
                cases.append(
                    pytest.param(
                        row,
                        method,
                        role,
                        expect,
                        id=f"{row.label}|{method}|{role}->{expect.label}",
                        marks=marks,
                    )
                )
    return cases


# --- helpers --------------------------------------------------------------------------------

SNAPSHOT_APPS = {
    "agenda",
    "api",
    "evidence",
    "members",
    "campaigns",
    "outreach",
    "outbox",
    "mfa",
    "account",
    "webhooks",
    "updates",
}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of our models (and their many-to-many tables), to prove a request wrote nothing.

    Raw SQL: encrypted columns are compared as stored, without decrypting every row twice a test.
    """
    state = {}
    quote = connection.ops.quote_name
    queries = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in SNAPSHOT_APPS:
            continue
        # last_login moves when the test client signs someone in, not because of the request.
        columns = ", ".join(
            quote(f.column) for f in model._meta.concrete_fields if f.attname != "last_login"
        )
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        queries[model._meta.label] = (columns, table, pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip instead of one per table (two snapshots per cell, ~70 tables): each
            # table's rows as PostgreSQL writes them out as text, every column, in key order.
            tables = [
                f"(SELECT array_agg(ROW({columns})::text ORDER BY {pk}) FROM {table})"  # noqa: S608
                for columns, table, pk in queries.values()
            ]
            cursor.execute("SELECT " + ", ".join(tables))
            return dict(zip(queries, cursor.fetchone(), strict=True))
        for label, (columns, table, pk) in queries.items():
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {pk}")  # noqa: S608
            state[label] = cursor.fetchall()
    return state


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def _client(actor: Actor) -> Client:
    client = Client()
    if actor.secret:
        assert actor.user is not None
        sign_in(client, actor.user, actor.secret)
    elif actor.user is not None:
        client.force_login(actor.user)
    return client


def _request(client: Client, method: str, url: str, data: dict[str, Any], *, json: bool) -> Any:
    if method == "GET":
        return client.get(url)
    if json:
        return client.post(url, data=data, content_type="application/json")
    return client.post(url, data)


def _body(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    # Binary answers (the link-preview PNG) are searched for personal data like any other.
    return response.content.decode(errors="replace")


def _assert_answer(response: HttpResponse, expect: Expect) -> None:
    assert response.status_code == expect.status, response.get("Location", "")
    if expect.status != 302:
        return
    location = response["Location"]
    sign_in_page = {
        "login": location.startswith(reverse("account_login")),
        "staff-login": location.startswith(reverse("admin:login")),
    }
    if expect.to == "mfa-setup":
        assert location == reverse("mfa_activate_totp")
    elif expect.to:
        assert sign_in_page[expect.to], location
    else:
        assert not any(sign_in_page.values()), location
        assert location != reverse("mfa_activate_totp")


# --- the table, cell by cell ----------------------------------------------------------------


@pytest.mark.parametrize(("row", "method", "role", "expect"), _cases())
def test_permission_table(world: World, row: Row, method: str, role: str, expect: Expect) -> None:
    actor = actor_for(world, role)
    client = _token_client(world, actor) if row.token else _client(actor)
    url = reverse(row.route, kwargs=row.kwargs(world, actor))
    data = row.data(world, actor) if row.data else ({} if row.json else PROBE)
    before = _snapshot()

    response = _request(client, method, url, data, json=row.json)
    body = _body(response)  # a streamed export writes its row count only once read

    _assert_answer(response, expect)
    changed = _changed(before, _snapshot())
    if expect.writes:
        assert changed, "an allowed action wrote nothing"
    else:
        assert not changed, f"wrote to {changed}"
    # An organization never sees another's supporters; nobody sees a pending signer.
    allowed = {world.olga.email} if role in row.personal else set()
    for secret in set(world.never_shown) - allowed:
        assert secret not in body


# --- every route is in the table ------------------------------------------------------------

# Routes that are not ours to tabulate, each with the reason.
NOT_IN_TABLE_NAMESPACES = {
    "admin": "Django admin: is_staff plus model permissions, Django's own checks",
    "anymail": "provider webhooks: signatures/basic auth, see test_webhook_without_credentials",
}
NOT_IN_TABLE_NAMES = {
    "set_language": "Django's language switch, no data",
    "healthz": "health check, no data",
    "mfa_activate_totp": "allauth's own two-factor set-up (members.views.TotpActivateView only "
    "changes where it ends)",
}
NOT_IN_TABLE_MODULES = ("allauth.",)  # sign-in, sign-up, two-factor: allauth's own views
NOT_IN_TABLE_UNNAMED = ("static/", "media/", "^static/", "^media/")


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> list[tuple[str, str, str, URLPattern]]:
    """(route, full name, namespace, pattern) for every URL pattern, recursively."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            name = pattern.name or ""
            if name and namespace:
                name = f"{namespace}:{name}"
            found.append((prefix + str(pattern.pattern), name, namespace, pattern))
    return found


def _tabulated(route: str, name: str, namespace: str, pattern: URLPattern) -> bool:
    """False for the allowlisted routes that need no row."""
    module = getattr(pattern.callback, "__module__", "") or ""
    return not (
        namespace.split(":")[0] in NOT_IN_TABLE_NAMESPACES
        or name in NOT_IN_TABLE_NAMES
        or module.startswith(NOT_IN_TABLE_MODULES)
        or (not name and route.startswith(NOT_IN_TABLE_UNNAMED))
    )


def test_every_route_has_a_row() -> None:
    routes = [r for r in _walk(get_resolver().url_patterns) if _tabulated(*r)]
    unnamed = [route for route, name, _ns, _p in routes if not name]
    assert not unnamed, f"name these routes so the table can list them: {unnamed}"
    named = {name for _route, name, _ns, _p in routes}
    in_table = {row.route for row in TABLE}
    assert not named - in_table, f"add rows to TABLE for: {sorted(named - in_table)}"
    assert not in_table - named, f"TABLE lists routes that no longer exist: {in_table - named}"


# --- found while filling the table: not an access bug, but allowed people get a 500 --------

_EMPTY_CHART = (
    "results/charts.py bar_chart and hbar_chart return format_html('') for an empty series; "
    "Django 6 raises TypeError('args or kwargs must be provided.'), so the dashboard of a "
    "campaign without folded counts (and staff figures without sent letters) is a 500. "
    "Fix: return SafeString('') in both."
)


@pytest.mark.parametrize("who", ["admin_of_cosponsor", "staff"])
def test_dashboards_render_before_any_signature_is_counted(live: LiveCampaign, who: str) -> None:
    client = Client()
    if who == "staff":
        sign_in(client, *make_staff())
        url = reverse("results:staff_figures")
    else:
        client.force_login(live.admins[0])
        url = reverse(
            "results:campaign_dashboard",
            kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug},
        )
    assert client.get(url).status_code == 200


# --- two-factor sign-in for admins ----------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [pytest.param(row, id=f"{row.label}|{row.admin_acts}") for row in TABLE if row.admin_acts],
)
def test_admin_without_two_factor_is_sent_to_set_it_up(world: World, row: Row) -> None:
    admin = make_admin(world.a, mfa=False)
    actor = Actor("admin_without_two_factor", admin, world.a, {})
    client = _client(actor)
    url = reverse(row.route, kwargs=row.kwargs(world, actor))
    data = row.data(world, actor) if row.data else PROBE
    before = _snapshot()

    response = _request(client, row.admin_acts, url, data, json=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not _changed(before, _snapshot())


# --- two-factor sign-in for staff, and for every role on routes with signers' data ----------

STAFF_ONLY = [
    row
    for row in TABLE
    if row.expected("GET")["staff"] == "200" and row.expected("GET")["admin_of_cosponsor"] != "200"
]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.label) for row in STAFF_ONLY])
def test_staff_without_two_factor_is_sent_to_set_it_up(world: World, row: Row) -> None:
    staff, _secret = make_staff(mfa=False)
    client = Client()
    sign_in(client, staff)
    url = reverse(row.route, kwargs=row.kwargs(world, actor_for(world, "staff")))
    for method in ("GET", "POST"):
        response = _request(client, method, url, PROBE, json=False)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")


SIGNER_DATA = [row for row in TABLE if row.expected("GET")["editor"] == "mfa"]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.label) for row in SIGNER_DATA])
def test_editor_with_two_factor_uses_the_signer_data_routes(world: World, row: Row) -> None:
    editor = make_member(world.a, Membership.Role.EDITOR)  # with two-factor set up
    actor = Actor("editor_with_two_factor", editor, world.a, {})
    response = _client(actor).get(reverse(row.route, kwargs=row.kwargs(world, actor)))
    body = _body(response)
    assert response.status_code == 200
    if row.route == "campaigns:export":
        assert world.olga.email in body


# --- supporters: only the consenting organization gets them ---------------------------------


def _export(client: Client, organization: Organization, campaign: Campaign) -> HttpResponse:
    return client.get(
        reverse("campaigns:export", kwargs={"org": organization.slug, "slug": campaign.slug})
    )


def _emails_in(response: HttpResponse) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    return {row["email"] for row in rows}


def test_export_for_a_lists_only_its_confirmed_consenting_supporters(world: World) -> None:
    client = _client(actor_for(world, "admin_of_cosponsor"))
    response = _export(client, world.a, world.campaign)
    assert response.status_code == 200
    assert _emails_in(response) == {world.olga.email}  # not Boris (B only), not Pavel (pending)
    export = SupporterExport.objects.get()
    assert (export.organization, export.exported_by, export.row_count) == (
        world.a,
        world.admin_a,
        1,
    )


def test_export_for_cosponsor_b_holds_none_of_as_supporters(world: World) -> None:
    client = Client()
    client.force_login(world.admin_b)
    response = _export(client, world.b, world.campaign)
    assert response.status_code == 200
    assert _emails_in(response) == {world.boris.email}
    assert world.olga.name not in _body(_export(client, world.b, world.campaign))


def test_cosponsor_b_cannot_export_through_as_url(world: World) -> None:
    client = Client()
    client.force_login(world.admin_b)
    assert _export(client, world.a, world.campaign).status_code == 403
    assert not SupporterExport.objects.exists()


def test_non_cosponsor_gets_404_for_the_export(world: World) -> None:
    client = _client(actor_for(world, "admin_of_other_org"))
    assert _export(client, world.c, world.campaign).status_code == 404
    assert not SupporterExport.objects.exists()


def test_staff_cannot_export_supporters(world: World) -> None:
    """Staff have no membership: organization_for refuses them (403). There is no staff door."""
    client = _client(actor_for(world, "staff"))
    assert _export(client, world.a, world.campaign).status_code == 403
    staff_url = reverse("campaigns:export", kwargs={"org": "staff", "slug": world.campaign.slug})
    assert client.get(staff_url).status_code == 404
    assert not SupporterExport.objects.exists()


def test_invited_cosponsor_cannot_export_or_close_before_accepting(world: World) -> None:
    """An invited organization reads the workspace and answers (campaigns/access.py); it reaches
    nothing else until it accepts."""
    campaign_services.cosponsor_invite(
        campaign=world.campaign, organization=world.a, invitee=world.c, user=world.admin_a
    )
    client = _client(actor_for(world, "admin_of_other_org"))
    kwargs = {"org": world.c.slug, "slug": world.campaign.slug}
    assert client.get(reverse("campaigns:manage", kwargs=kwargs)).status_code == 200
    assert _export(client, world.c, world.campaign).status_code == 404
    closing = client.post(
        reverse("campaigns:close", kwargs=kwargs), {"result": "won", "result_summary": "Done."}
    )
    assert closing.status_code == 404
    assert client.get(reverse("campaigns:edit", kwargs=kwargs)).status_code == 404
    assert client.get(reverse("outreach:campaign", kwargs=kwargs)).status_code == 404
    assert not SupporterExport.objects.exists()
    world.campaign.refresh_from_db()
    assert world.campaign.status == Campaign.Status.LIVE


# --- public pages show no pending signer and no signer's email ------------------------------

PUBLIC_PAGES = [
    row
    for row in TABLE
    if not row.personal and set(row.expected("GET").values()) == {"200"} and not row.variant
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@pytest.mark.parametrize("row", [pytest.param(row, id=row.label) for row in PUBLIC_PAGES])
def test_public_page_shows_no_pending_signer_and_no_email(world: World, row: Row) -> None:
    actor = actor_for(world, "anonymous")
    response = Client().get(reverse(row.route, kwargs=row.kwargs(world, actor)))
    body = _body(response)
    assert response.status_code == 200
    for secret in world.never_shown:
        assert secret not in body
    if not row.route.startswith("api:"):  # the OpenAPI document has example addresses
        assert not _EMAIL.findall(body)


def test_petition_page_shows_only_confirmed_signers_who_chose_to_be_shown(world: World) -> None:
    body = Client().get(reverse("campaigns:petition", args=[world.petition.slug])).content.decode()
    assert world.olga.name in body  # confirmed, full name by her choice: proves the list renders
    assert "Pavel" not in body and "Boris" not in body


# --- signer links are capabilities for one signature and one purpose ------------------------


def _forge(real_token: str, signature_id: int, purpose: str) -> str:
    """A signer's own token with its payload swapped for another signature: the tampering a
    signer could try. The signature part stays the original, valid one."""
    forged_payload = signing.dumps({"s": signature_id, "p": purpose}, salt="x", compress=True)
    return forged_payload.split(":")[0] + real_token[real_token.index(":") :]


@pytest.mark.parametrize(
    ("route", "purpose"),
    [("campaigns:withdraw", "withdraw"), ("campaigns:not_me", "not-me")],
)
def test_signer_cannot_rewrite_a_token_for_another_signature(
    world: World, route: str, purpose: str
) -> None:
    own = token_make(world.olga.pk, purpose)
    response = Client().post(reverse(route, args=[_forge(own, world.boris.pk, purpose)]))
    assert response.status_code == 400
    assert Signature.objects.filter(pk=world.boris.pk).exists()
    assert Signature.objects.filter(pk=world.olga.pk).exists()


def test_signer_token_for_one_purpose_opens_no_other(world: World) -> None:
    tokens = world.signer_tokens
    client = Client()
    before = _snapshot()
    assert client.post(reverse("campaigns:withdraw", args=[tokens["confirm"]])).status_code == 400
    assert client.post(reverse("campaigns:not_me", args=[tokens["withdraw"]])).status_code == 400
    assert (
        client.post(reverse("outreach:survey", args=[tokens["letter"], "yes"])).status_code == 400
    )
    assert client.get(reverse("outreach:letter", args=[tokens["survey"]])).status_code == 400
    assert client.post(reverse("privacy:erase", args=[tokens["withdraw"]])).status_code == 400
    assert not _changed(before, _snapshot())


def test_erase_link_deletes_only_the_signers_own_data(world: World) -> None:
    response = Client().post(reverse("privacy:erase", args=[world.signer_tokens["erase"]]))
    assert response.status_code == 200
    assert not Signature.objects.filter(pk=world.olga.pk).exists()
    assert set(Signature.objects.values_list("pk", flat=True)) == {world.boris.pk, world.pavel.pk}


# --- invitations: the token is for the invited address only ---------------------------------


def test_invitation_token_does_not_let_someone_else_join(world: World) -> None:
    client = _client(actor_for(world, "admin_of_other_org"))
    url = reverse("members:invitation", args=[world.invitation_token])
    assert world.a.name in client.get(url).content.decode()
    assert client.post(url).status_code == 200  # the page, with "sent to another address"
    assert not Membership.objects.filter(user=world.admin_c, organization=world.a).exists()
    world.invitation.refresh_from_db()
    assert world.invitation.accepted_at is None


def test_invitation_token_lets_the_invited_person_join(world: World) -> None:
    newcomer = UserFactory(email="newcomer@example.org")
    client = Client()
    client.force_login(newcomer)
    response = client.post(reverse("members:invitation", args=[world.invitation_token]))
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer).organization == world.a


# --- provider webhooks: tests/outbox/test_provider_webhooks.py -------------------------


def test_forged_reply_without_credentials_never_reaches_the_campaign_page(
    world: World, contacts: list[Contact]
) -> None:
    official = contacts[1]  # received Olga's letter; the address is public
    forged = {
        "From": official.email,
        "FromFull": {"Email": official.email, "Name": official.name},
        "To": "replies@coalition.example",
        "ToFull": [{"Email": "replies@coalition.example", "Name": ""}],
        "Subject": "Re: your letter",
        "TextBody": "We fully support the campaign and will vote yes.",
        "Headers": [],
    }
    before = _snapshot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anymail's AnymailInsecureWebhookWarning
        response = Client(raise_request_exception=False).post(
            "/anymail/postmark/inbound/", data=json.dumps(forged), content_type="application/json"
        )
    page = Client().get(reverse("campaigns:campaign", args=[world.campaign.slug]))
    assert "We fully support" not in page.content.decode()
    assert response.status_code in {400, 403, 404}
    assert not _changed(before, _snapshot())
