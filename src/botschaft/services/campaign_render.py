"""The messages of a batch of deliveries, rendered per contact from the campaign's content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from botschaft.channels.messages import OutboundMessage, Template
from botschaft.services.context import Context
from botschaft.storage.broadcast import Campaign


def render_batch(
    session: Session, ctx: Context, campaign: Campaign, contact_ids: Sequence[int]
) -> dict[int, OutboundMessage]:
    """One message per contact id (addressed later, when the identity is known)."""
    content = campaign.content
    if content.get("kind") == "template":
        template = Template(content["template_name"], content.get("template_language", "de"))
        message = OutboundMessage(to="", template=template, text=content.get("text"))
    else:
        message = OutboundMessage(to="", text=content.get("text"))
    return {contact_id: message for contact_id in contact_ids}
