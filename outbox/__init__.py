"""The office's outgoing mail: receipts (回执), reminders (催报) and the daily digest (每日汇总).

- ``guard``: whether an incoming mail may be answered at all, and a per-recipient daily cap;
- ``compose``: pure functions building the messages (``EmailMessage``, no network);
- ``send``: ``Outbox``, one SMTP session (or a dry-run folder of .eml files) for a batch.
"""

from outbox.compose import digest, receipt, reminder
from outbox.guard import REASONS, RateLimit, allowed, no_reply_reason
from outbox.send import Outbox, OutboxError, PasswordMissing, SentResult, SmtpSettings

__all__ = [
    "REASONS",
    "Outbox",
    "OutboxError",
    "PasswordMissing",
    "RateLimit",
    "SentResult",
    "SmtpSettings",
    "allowed",
    "digest",
    "no_reply_reason",
    "receipt",
    "reminder",
]
