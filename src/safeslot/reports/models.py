"""Published transparency reports: a cache of what was published, for the public page.

The figures are never read from here to compute anything: the report's authority is
its signature and the `report.published` entry in the log. A row only records which
file was published for a period, from which checkpoint, and where its log entry is.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.db import Base, UTCDateTime


class PublishedReport(Base):
    __tablename__ = "published_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_root: Mapped[str] = mapped_column(String(64))  # base64, as in the checkpoint
    log_index: Mapped[int] = mapped_column(BigInteger)  # of the report.published entry
    signature: Mapped[str] = mapped_column(Text)  # C2SP signed note
    document: Mapped[bytes] = mapped_column(LargeBinary)  # the published JSON file
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
