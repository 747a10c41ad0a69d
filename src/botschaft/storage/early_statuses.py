"""Status reports that arrived before Botschaft knew the provider's message id.

A provider may report "delivered" for a message while our side is still waiting for the
answer to the send request that names the id (single messages) or has not yet written the
ids of a whole campaign batch. Such a report is kept here, keyed by channel and provider
id, until the id is stored and the report applied, or until it expires.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime


class EarlyStatus(Base):
    """One status report (sent, delivered, read, failed) for a provider id not yet known."""

    __tablename__ = "early_statuses"
    __table_args__ = (
        # One row per report: the same report twice is kept once.
        UniqueConstraint("channel", "provider_message_id", "status", name="uq_early_status"),
        Index("ix_early_statuses_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the provider's time
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
