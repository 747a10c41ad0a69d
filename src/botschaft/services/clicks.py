"""Tracked links of campaigns and the clicks on them (``/c/<code>``).

Privacy by default: a click row holds the link, the campaign, the delivery the link named
(if its signature holds) and the time. No IP address, no browser, no cookie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botschaft.domain.campaign import parse_content
from botschaft.domain.errors import NotFound
from botschaft.domain.tracked_links import find_links, new_code, read_delivery_ref
from botschaft.services.context import Context
from botschaft.services.secret import signing_key
from botschaft.storage.broadcast import Campaign, Click, Delivery, ShortLink, bump_counters

log = logging.getLogger(__name__)


class UnknownLink(NotFound):
    code = "link_unknown"


@dataclass(frozen=True)
class ClickTarget:
    url: str
    campaign_id: int
    delivery_id: int | None


def ensure_links(session: Session, ctx: Context, campaign: Campaign) -> dict[str, str]:
    """One short code per link in the campaign's text (made once); URL -> code."""
    existing = dict(
        session.execute(
            select(ShortLink.url, ShortLink.code).where(ShortLink.campaign_id == campaign.id)
        ).all()
    )
    if not campaign.track_links:
        return existing
    for url in find_links(parse_content(campaign.content).text or ""):
        if url in existing:
            continue
        existing[url] = _new_link(session, ctx, campaign.id, url)
    return existing


def _new_link(session: Session, ctx: Context, campaign_id: int, url: str) -> str:
    for _attempt in range(5):
        code = new_code()
        try:
            with session.begin_nested():
                session.add(ShortLink(code=code, campaign_id=campaign_id, url=url,
                                      created_at=ctx.clock.now()))
            return code
        except IntegrityError:
            continue  # the code was taken: 57^8 makes this rare, draw again
    raise RuntimeError("could not draw a free short-link code in five attempts")


def record_click(ctx: Context, code: str, ref: str | None) -> ClickTarget:
    """Record one click on ``code`` and say where it leads; ``UnknownLink`` if nowhere.

    A reference whose signature does not hold, or that names a delivery of another
    campaign, still leads to the link; the click is then counted without a delivery.
    """
    key = signing_key(ctx.settings)
    with ctx.db.write() as session:
        link = session.scalar(select(ShortLink).where(ShortLink.code == code))
        if link is None:
            raise UnknownLink("This link is not known.")
        delivery_id = read_delivery_ref(ref, key) if ref else None
        if delivery_id is not None:
            delivery_campaign = session.scalar(
                select(Delivery.campaign_id).where(Delivery.id == delivery_id)
            )
            if delivery_campaign != link.campaign_id:
                delivery_id = None
        session.add(Click(link_id=link.id, campaign_id=link.campaign_id,
                          delivery_id=delivery_id, clicked_at=ctx.clock.now()))
        bump_counters(session, link.campaign_id, clicked=1)
        log.info("link clicked", extra={"campaign_id": link.campaign_id,
                                        "delivery_id": delivery_id})
        return ClickTarget(link.url, link.campaign_id, delivery_id)
