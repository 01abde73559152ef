"""Bounces and complaints, which stop every later mail to an address.

Two ways in:
- **A mail provider** (django-anymail's tracking webhooks, /anymail/<provider>/tracking/):
  anymail turns each provider's payload into one ``tracking`` signal, received here.
  ``bounced`` and ``rejected`` (the provider refused the address), ``complained`` (the reader
  pressed "spam") and ``unsubscribed`` (the provider's own unsubscribe) stop the address.
- **Plain SMTP**: the bounces come back as mail, to DEFAULT_FROM_EMAIL (the envelope sender).
  ``manage.py process_bounces`` reads them (an MTA pipe on stdin, files, or a Maildir) as
  RFC 3464 delivery status notifications and RFC 5965 abuse reports (the format of feedback
  loops), parsed with the standard library's email package. Only permanent failures
  (``Action: failed``, status 5.x.x) stop an address; delays and soft bounces are retried by
  the sending server and change nothing here.

A permanent refusal at the door (an SMTP 5xx to RCPT TO while sending) stops the address in
the send loop itself (services.send_batch).
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from subscriptions import services
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

# anymail's normalised event types that stop an address, and what they stop it as.
TRACKING_STOPS = {
    "bounced": "bounced",
    "rejected": "bounced",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}


def on_tracking_event(sender, event, esp_name, **kwargs) -> None:
    """Receiver of anymail's ``tracking`` signal (subscriptions/apps.py)."""
    kind = TRACKING_STOPS.get(event.event_type)
    if kind is None or not event.recipient:
        return  # delivered, opened, deferred…: nothing to stop
    reason = " ".join(
        part
        for part in (
            f"{esp_name}:",
            event.event_type,
            event.reject_reason or "",
            (event.description or event.mta_response or "")[:500],
        )
        if part
    )
    known = services.address_stop(
        email=event.recipient, kind=kind, reason=reason, message_id=event.message_id or ""
    )
    logger.info(
        "tracking %s for a %s address: %s",
        event.event_type,
        "known" if known else "unknown",
        esp_name,
    )


@dataclass(frozen=True)
class Stop:
    """An address to stop, read from a returned mail."""

    email: str
    kind: str  # "bounced" or "complained"
    reason: str
    message_id: str = ""


def _address(value: str) -> str:
    """``rfc822; reader@example.com`` -> ``reader@example.com``."""
    value = (value or "").split(";", 1)[-1].strip()
    found = getaddresses([value])
    return (found[0][1] if found else value).strip().strip("<>").lower()


def _original_headers(report: Message) -> Message | None:
    """The headers of the returned message, from its message/rfc822 or text/rfc822-headers
    part, if the report carries one."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
        if kind == "text/rfc822-headers":
            return email.message_from_string(part.get_payload(decode=True).decode(errors="replace"))
    return None


def read_report(raw: bytes) -> list[Stop]:
    """The addresses a returned mail says to stop: the permanently failed recipients of a
    delivery status notification, or the recipient of an abuse report. Anything else
    (a delay, an auto-reply, a message that is no report) gives nothing."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    original = _original_headers(message)
    message_id = str(original.get("Message-ID", "") if original is not None else "").strip()
    stops: list[Stop] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks[1:] if isinstance(blocks, list) else []:
                action = str(block.get("Action") or "").strip().lower()
                status = str(block.get("Status") or "").strip()
                if action != "failed" or not status.startswith("5"):
                    continue
                address = _address(
                    str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
                )
                if address:
                    diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
                    reason = f"smtp: {status} {diagnostic}".strip()[:500]
                    stops.append(Stop(address, "bounced", reason, message_id))
        elif kind == "message/feedback-report":
            fields = part.get_payload()
            fields = fields[0] if isinstance(fields, list) and fields else part
            feedback = str(fields.get("Feedback-Type") or "").strip().lower()
            if feedback not in {"abuse", "fraud", "virus", "other"}:
                continue
            address = _address(str(fields.get("Original-Rcpt-To") or ""))
            if not address and original is not None:
                address = _address(str(original.get("To", "")))
            if address:
                stops.append(Stop(address, "complained", f"feedback loop: {feedback}", message_id))
    return stops


def process(raw: bytes, *, dry_run: bool = False) -> list[tuple[Stop, bool]]:
    """Stop every address ``raw`` reports; returns each with whether it was known."""
    done = []
    for stop in read_report(raw):
        if dry_run:
            known = Subscriber.objects.filter(email=stop.email).exists()
        else:
            known = services.address_stop(
                email=stop.email, kind=stop.kind, reason=stop.reason, message_id=stop.message_id
            )
        done.append((stop, known))
    return done
