"""The only writers for campaigns, co-sponsorships, petitions and signatures, one module per
concern. Callers keep using ``from campaigns import services`` and ``services.<name>``: every
public name is re-exported here.

- ``_common``: the domain error, who may act (role and co-sponsor checks), slugs
- ``campaigns``: campaigns and their co-sponsors (create, edit, invite, accept, withdraw, go live)
- ``closing``: closing a campaign (a joint act) and coalition endorsement (a decision)
- ``petitions``: petitions of a campaign
- ``signatures``: sign, confirm, withdraw, "not me", reminders, the per-mailbox mail cap
- ``counting``: count deltas and their fold into totals, milestones, the repair recount
- ``exports``: the supporter-export audit log
- ``outcomes``: the public timeline of what a campaign achieved
"""

from __future__ import annotations

from campaigns.services._common import (
    ADMIN_ONLY,
    EDITOR_ROLES,
    RESERVED_SLUGS,
    CampaignConflict,
    CampaignError,
    CampaignForbidden,
    CampaignNotFound,
)
from campaigns.services.campaigns import (
    ISSUE_AREAS,
    campaign_create,
    campaign_go_live,
    campaign_update,
    cosponsor_invite,
    cosponsor_respond,
    cosponsor_withdraw,
    issue_areas_ensure,
)
from campaigns.services.closing import (
    CLOSE_ACT,
    campaign_close,
    campaign_close_propose,
    campaign_request_endorsement,
    register_decision_effects,
)
from campaigns.services.counting import MILESTONES, signature_counts_fold, signature_counts_rebuild
from campaigns.services.exports import supporter_export_finish, supporter_export_start
from campaigns.services.outcomes import latest_today, outcome_record, outcome_system, outcome_update
from campaigns.services.petitions import petition_create
from campaigns.services.signatures import (
    SIGNER_MAIL_KINDS,
    SIGNER_MAIL_RENDERER,
    AfterConfirm,
    after_confirm_register,
    after_confirm_url,
    register_signer_mail,
    signature_confirm,
    signature_create,
    signature_delete,
    signature_not_me,
    signature_withdraw,
    signatures_remind_and_expire,
    signer_mail_render,
)

__all__ = [
    "ADMIN_ONLY",
    "CLOSE_ACT",
    "EDITOR_ROLES",
    "ISSUE_AREAS",
    "MILESTONES",
    "RESERVED_SLUGS",
    "SIGNER_MAIL_KINDS",
    "SIGNER_MAIL_RENDERER",
    "AfterConfirm",
    "CampaignConflict",
    "CampaignError",
    "CampaignForbidden",
    "CampaignNotFound",
    "after_confirm_register",
    "after_confirm_url",
    "campaign_close",
    "campaign_close_propose",
    "campaign_create",
    "campaign_go_live",
    "campaign_request_endorsement",
    "campaign_update",
    "cosponsor_invite",
    "cosponsor_respond",
    "cosponsor_withdraw",
    "issue_areas_ensure",
    "latest_today",
    "outcome_record",
    "outcome_system",
    "outcome_update",
    "petition_create",
    "register_decision_effects",
    "register_signer_mail",
    "signature_confirm",
    "signature_counts_fold",
    "signature_counts_rebuild",
    "signature_create",
    "signature_delete",
    "signature_not_me",
    "signature_withdraw",
    "signatures_remind_and_expire",
    "signer_mail_render",
    "supporter_export_finish",
    "supporter_export_start",
]
