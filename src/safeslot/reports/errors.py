"""Errors of the transparency report (HTTP status comes from the parent class).

    DomainError
    +-- InvalidInput
    |   +-- BadPeriod           a period label that is not a year, half, quarter or month
    +-- NotFound
    |   +-- ReportNotFound      no published report for the period
    +-- Conflict
    |   +-- ReportMismatch      a report differs from the one recomputed from the log
    +-- Unavailable
        +-- LogUnreadable       the log's entries do not match the checkpoint, or cannot be read
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, InvalidInput, NotFound, Unavailable


class BadPeriod(InvalidInput, slug="report-bad-period", title=N_("Not a reporting period")):
    """A period label the report does not understand."""

    def __init__(self, text: str) -> None:
        super().__init__("Give a period as a year (2026), a half (2026H2), a quarter (2026Q3) "
                         "or a month (2026-07).")
        self.text = text


class ReportNotFound(NotFound, slug="report-not-found", title=N_("No report for this period")):
    """No report has been published for the period."""

    def __init__(self, period: str) -> None:
        super().__init__(f"No transparency report has been published for {period}; "
                         "see /transparency/report for the published periods.")


class LogUnreadable(Unavailable, slug="report-log-unreadable", title=N_("The log does not match its checkpoint")):
    """The log's entries cannot be read or do not hash to the checkpoint's root."""


class ReportMismatch(Conflict, slug="report-mismatch", title=N_("The report does not match the log")):
    """A report differs from the report recomputed from the log."""

    def __init__(self, differences: list[str]) -> None:
        super().__init__("The report is not what the log says: " + "; ".join(differences[:10]))
        self.differences = differences
