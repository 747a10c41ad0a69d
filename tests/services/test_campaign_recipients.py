"""The batch view of many people equals the one-person view the gate gets elsewhere."""

from __future__ import annotations

from datetime import timedelta

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.campaign_recipients import recipients_for
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.recipients import recipient_for
from botschaft.storage.models import ChannelIdentity, Contact
from broadcast_setup import subscribers

WA = ChannelKind.WHATSAPP


def test_the_batch_view_of_each_person_is_the_one_person_view(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    granted, withdrawn, paused, limited = subscribers(ctx, text_version, 4)
    never = subscribers(ctx, text_version, 1, first=10, consent=False)[0]
    clock.advance(timedelta(days=1))
    record_consent(ctx, ConsentRecord(withdrawn, WA, MARKETING, ConsentEventKind.WITHDRAWN,
                                      ConsentSource.KEYWORD, evidence="STOP"))
    record_consent(ctx, ConsentRecord(paused, WA, MARKETING, ConsentEventKind.PAUSED,
                                      ConsentSource.WEB_FORM,
                                      until=clock.now() + timedelta(days=14)))
    record_consent(ctx, ConsentRecord(limited, WA, MARKETING, ConsentEventKind.LIMITED,
                                      ConsentSource.WEB_FORM, per_period=1))
    people = [granted, withdrawn, paused, limited, never]
    with ctx.db.read() as session:
        batch = recipients_for(session, ctx, WA, people, exclude_campaign=0)
        for contact_id in people:
            contact = session.get_one(Contact, contact_id)
            identity = session.query(ChannelIdentity).filter_by(contact_id=contact_id).one()
            one = recipient_for(session, ctx, contact, identity)
            assert batch[contact_id].recipient == one, contact_id
            assert batch[contact_id].address == identity.address
