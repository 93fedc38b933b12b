"""Append-only, hash-chained audit events.

Each account has its own chain (events without an account go to the global chain, key 0), so
appending locks one chain head, never the whole table: the audit log cannot become the
ceiling on throughput, and tampering with any event breaks its chain from that point.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditChain(models.Model):
    """The head of one chain: its last sequence number and hash. Row-locked on append."""

    key = models.BigIntegerField(primary_key=True, help_text="account id, or 0 for global")
    seq = models.BigIntegerField(default=0)
    head = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain {self.key} at {self.seq}"


class AuditEvent(models.Model):
    chain = models.BigIntegerField(db_index=False)
    seq = models.BigIntegerField()
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # Who acted, as a person would read it; kept even if the user row is later erased.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq_unique")
        ]
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["action", "-id"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.chain}/{self.seq}"
