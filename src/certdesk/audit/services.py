"""Recording audit events. Call inside the transaction of the change being recorded."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from certdesk.audit.models import AuditChain, AuditEvent
from certdesk.core import clock

if TYPE_CHECKING:
    from django.http import HttpRequest

    from certdesk.accounts.models import Account, User

GENESIS = "0" * 64


def event_digest(*, prev_hash: str, fields: dict[str, Any]) -> str:
    """The SHA-256 that links an event to its predecessor."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _canonical_ip(ip: str | None) -> str | None:
    """One spelling per address: the database may hand back IPv6 in another form."""
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip).exploded
    except ValueError:
        return ip


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields an event's hash covers, in a stable form (times in UTC, whatever zone they
    were recorded or read back in)."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "account": event.account_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "data": event.data,
        "ip": _canonical_ip(event.ip),
        "created_at": event.created_at.astimezone(UTC).isoformat(),
    }


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    account: Account | None = None,
    actor: User | None = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the account's chain (or the global chain) and return it.

    ``target`` is a model instance (its class name and pk are recorded) or None.
    """
    now = now or clock.now()
    key = account.pk if account is not None else 0
    actor_label = ""
    if actor is not None and getattr(actor, "pk", None):
        actor_label = actor.get_username()
    # No savepoint: an event belongs to the change that caused it, and a failure here must
    # undo that change anyway. One locked read in the usual case where the chain exists.
    with transaction.atomic(savepoint=False):
        head = AuditChain.objects.select_for_update().filter(key=key).first()
        if head is None:
            AuditChain.objects.bulk_create([AuditChain(key=key)], ignore_conflicts=True)
            head = AuditChain.objects.select_for_update().get(key=key)
        event = AuditEvent(
            chain=key,
            seq=head.seq + 1,
            account=account,
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            actor_label=actor_label,
            action=action,
            target_type=type(target).__name__ if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            data=json.loads(json.dumps(data or {}, default=str)),
            ip=ip if ip is not None else client_ip(request),
            created_at=now,
            prev_hash=head.head,
        )
        event.hash = event_digest(prev_hash=head.head, fields=event_fields(event))
        event.save()
        head.seq = event.seq
        head.head = event.hash
        head.save(update_fields=["seq", "head"])
    return event


def audit_verify() -> list[str]:
    """Recompute every chain; return one line per problem found (empty when intact)."""
    problems: list[str] = []
    heads = {c.key: c for c in AuditChain.objects.all()}
    # Chains are found from the events too: deleting a head row must not hide its chain.
    keys = sorted(set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct()))
    for key in keys:
        prev = GENESIS
        expected_seq = 1
        for event in AuditEvent.objects.filter(chain=key).order_by("seq").iterator():
            where = f"chain {key} event {event.seq}"
            if event.seq != expected_seq:
                problems.append(f"{where}: expected sequence {expected_seq} (event missing)")
                expected_seq = event.seq
            if event.prev_hash != prev:
                problems.append(f"{where}: link to previous event broken")
            digest = event_digest(prev_hash=event.prev_hash, fields=event_fields(event))
            if digest != event.hash:
                problems.append(f"{where}: content altered (hash mismatch)")
            prev = event.hash
            expected_seq += 1
        chain = heads.get(key)
        if chain is None:
            problems.append(f"chain {key}: head missing (its chain record was deleted)")
        elif chain.seq != expected_seq - 1 or chain.head != prev:
            problems.append(f"chain {key}: head does not match its last event (truncated)")
    return problems
