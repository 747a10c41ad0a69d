"""Turning a campaign into the message one contact receives.

For the dispatcher (one campaign, many deliveries)::

    prepared = prepare_campaign(ctx, campaign_id)            # once per campaign (or batch)
    fields = recipient_fields(session, contact_ids, prepared.attribute_keys)  # per batch
    message = render_for(prepared, fields[contact_id], to=address, delivery_id=delivery.id)

``render_for`` is pure and fast (no I/O): the campaign's texts are compiled once, the links
and the signing key are read once. It returns a ``channels.messages.OutboundMessage`` with
the personalised text (or media caption, or template parameters), its links replaced by
tracked ``/c/<code>?d=<ref>`` links when the campaign tracks links, and the marketing footer
(how to stop, the preference link) below free-form text. It raises ``CampaignInvalid`` only
if the sandbox refuses a text, which creation and preview have checked already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.messages import (
    Button,
    Media,
    OutboundMessage,
    Template,
    TemplateComponent,
    TemplateParameter,
)
from botschaft.domain.campaign import CampaignContent, ContentKind, parse_content
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import NotFound
from botschaft.domain.tracked_links import delivery_ref, replace_links
from botschaft.services.context import Context
from botschaft.services.personalisation import BASE_FIELDS, Personaliser
from botschaft.services.preference_links import footer_with_key
from botschaft.services.secret import signing_key
from botschaft.storage.broadcast import Campaign, ShortLink
from botschaft.storage.contact_fields import AttributeDefinition, ContactAttribute
from botschaft.storage.id_list import among
from botschaft.storage.models import Contact

CLICK_PATH = "/c/"


@dataclass(frozen=True)
class RecipientFields:
    """What personalisation may read about one contact: declared fields only, as text."""

    contact_id: int
    language: str
    values: Mapping[str, str]


@dataclass
class PreparedCampaign:
    ctx: Context
    campaign_id: int
    channel: ChannelKind
    content: CampaignContent
    attribute_keys: tuple[str, ...]
    links: dict[str, str]  # original URL -> short code
    track_links: bool
    key: bytes
    _text: Personaliser | None = None
    _params: tuple[Personaliser, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        allowed = allowed_fields(self.attribute_keys)
        if self.content.text is not None:
            self._text = Personaliser(self.content.text, allowed)
        if self.content.template is not None:
            self._params = tuple(Personaliser(p, allowed) for p in self.content.template.params)


def allowed_fields(attribute_keys: Sequence[str]) -> tuple[str, ...]:
    return (*BASE_FIELDS, *attribute_keys)


def declared_keys(session: Session) -> tuple[str, ...]:
    return tuple(session.scalars(select(AttributeDefinition.key).order_by(AttributeDefinition.key)))


def prepare_campaign(ctx: Context, campaign_id: int) -> PreparedCampaign:
    """Everything ``render_for`` needs about one campaign, read and compiled once."""
    with ctx.db.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        links = dict(
            session.execute(
                select(ShortLink.url, ShortLink.code).where(ShortLink.campaign_id == campaign_id)
            ).all()
        )
        return PreparedCampaign(
            ctx=ctx,
            campaign_id=campaign_id,
            channel=ChannelKind(campaign.channel),
            content=parse_content(campaign.content),
            attribute_keys=declared_keys(session),
            links=links,
            track_links=campaign.track_links,
            key=signing_key(ctx.settings),
        )


def recipient_fields(
    session: Session, contact_ids: Sequence[int], attribute_keys: Sequence[str]
) -> dict[int, RecipientFields]:
    """The personalisation fields of many contacts in two queries (contacts, attributes)."""
    if not contact_ids:
        return {}
    ids = list(contact_ids)
    attributes: dict[int, dict[str, str]] = {i: {} for i in ids}
    for contact_id, key, value in session.execute(
        select(ContactAttribute.contact_id, ContactAttribute.key, ContactAttribute.value)
        .where(among(ContactAttribute.contact_id, ids))
    ):
        attributes[contact_id][key] = value
    found: dict[int, RecipientFields] = {}
    for contact_id, display, language in session.execute(
        select(Contact.id, Contact.display_name, Contact.language).where(among(Contact.id, ids))
    ):
        values = {key: attributes[contact_id].get(key, "") for key in attribute_keys}
        names = (display or "").split()
        values.update(display_name=display or "", first_name=names[0] if names else "",
                      language=language)
        found[contact_id] = RecipientFields(contact_id, language, values)
    return found


def render_for(
    prepared: PreparedCampaign, fields: RecipientFields, *, to: str, delivery_id: int | None
) -> OutboundMessage:
    """The message for one contact; see the module docstring for what it contains."""
    content = prepared.content
    if content.kind is ContentKind.TEMPLATE and content.template is not None:
        params = tuple(TemplateParameter(text=p.render(fields.values)) for p in prepared._params)
        components = (TemplateComponent("body", params),) if params else ()
        template = Template(content.template.name, content.template.language, components)
        return OutboundMessage(to=to, template=template)
    text = _text(prepared, fields, delivery_id)
    if content.kind is ContentKind.MEDIA:
        media = Media(content.media_kind or "image", content.media_url or "", caption=text)
        return OutboundMessage(to=to, media=media)
    buttons = tuple(Button(b.id, b.title) for b in content.buttons)
    return OutboundMessage(to=to, text=text, buttons=buttons)


def _text(prepared: PreparedCampaign, fields: RecipientFields, delivery_id: int | None) -> str:
    body = prepared._text.render(fields.values) if prepared._text else ""
    if prepared.track_links and prepared.links:
        body = replace_links(body, lambda url: _tracked(prepared, url, delivery_id))
    footer = footer_with_key(
        prepared.ctx, prepared.key, fields.contact_id, prepared.channel, fields.language
    )
    return f"{body}\n\n{footer}" if body else footer


def _tracked(prepared: PreparedCampaign, url: str, delivery_id: int | None) -> str | None:
    code = prepared.links.get(url)
    if code is None:
        return None
    base = f"{prepared.ctx.settings.effective_public_url}{CLICK_PATH}{code}"
    if delivery_id is None:
        return base
    return f"{base}?d={delivery_ref(delivery_id, prepared.key)}"
