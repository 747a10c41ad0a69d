"""Running the compliance lint on a stored campaign, and saying its findings in words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botschaft.domain.audience import parse_rule
from botschaft.domain.campaign import parse_content
from botschaft.domain.campaign_lint import LintFinding, LintInput, lint_campaign
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.i18n import translate
from botschaft.services.context import Context
from botschaft.storage.broadcast import Audience, Campaign


class CampaignLintFailed(BotschaftError):
    code = "campaign_lint_failed"
    status = 422

    def __init__(self, language: str, findings: list[LintFinding]) -> None:
        self.findings = findings
        self.reasons = [describe(language, f) for f in findings]
        super().__init__(
            translate(language, "campaign.lint.blocked") + " " + " ".join(self.reasons)
        )


def lint_stored(session: Session, ctx: Context, campaign: Campaign) -> list[LintFinding]:
    """The lint's findings for ``campaign`` as it is stored, as of the clock's now."""
    policy = ctx.settings.policy.policy()
    audience = session.get_one(Audience, campaign.audience_id)
    since = ctx.clock.now() - policy.cap_period
    recent = session.scalar(
        select(func.count()).select_from(Campaign).where(
            Campaign.id != campaign.id,
            Campaign.audience_id == campaign.audience_id,
            Campaign.purpose == MARKETING,
            Campaign.started_at > since,
            Campaign.status.not_in(("cancelled", "draft", "scheduled")),
        )
    )
    return lint_campaign(
        LintInput(
            channel=ChannelKind(campaign.channel),
            purpose=campaign.purpose,
            content=parse_content(campaign.content),
            audience_purpose=parse_rule(audience.rule).consent_purpose,
            sender_name=ctx.settings.business.name,
            stop_words=tuple(ctx.settings.keywords.opt_out),
            marketing_cap=policy.marketing_cap,
            cap_period=policy.cap_period,
            recent_campaigns=int(recent or 0),
        )
    )


def describe(language: str, finding: LintFinding) -> str:
    return translate(language, f"campaign.lint.{finding.code}", **finding.values)


def check_or_refuse(session: Session, ctx: Context, campaign: Campaign, language: str) -> None:
    findings = lint_stored(session, ctx, campaign)
    if findings:
        raise CampaignLintFailed(language, findings)


@dataclass(frozen=True)
class LintMessage:
    code: str
    message: str


def lint_report(ctx: Context, campaign_id: int, language: str) -> list[LintMessage]:
    """The lint of a stored campaign as of now, each finding in words in ``language``."""
    with ctx.db.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        findings = lint_stored(session, ctx, campaign)
    return [LintMessage(f.code, describe(language, f)) for f in findings]
