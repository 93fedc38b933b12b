"""Just enough DER to put an externally made signature into a structure cryptography built.

pyca/cryptography signs only with its own key objects. A key held in an HSM signs the
to-be-signed bytes itself, so the CA builds the structure with a stand-in key and swaps the
signature (and, for OCSP, the producedAt time, which cryptography takes from the clock).
"""

from __future__ import annotations

from datetime import UTC, datetime

SEQUENCE = 0x30
BIT_STRING = 0x03
OCTET_STRING = 0x04
GENERALIZED_TIME = 0x18
CONTEXT_0 = 0xA0
RESPONDER_BY_KEY = 0xA2


def _length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def encode(tag: int, content: bytes) -> bytes:
    """One TLV with a single-octet tag."""
    return bytes([tag]) + _length(len(content)) + content


def _read(data: bytes, offset: int) -> tuple[int, int, int]:
    """``(tag, content_start, end)`` of the TLV at ``offset``; single-octet tags only."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-octet DER tags are not supported")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, start, end


def children(der: bytes) -> tuple[int, list[bytes]]:
    """The tag of the constructed TLV ``der`` and its child TLVs, each as raw bytes."""
    tag, start, end = _read(der, 0)
    if end != len(der):
        raise ValueError("trailing data after DER value")
    items: list[bytes] = []
    offset = start
    while offset < end:
        _, _, item_end = _read(der, offset)
        items.append(der[offset:item_end])
        offset = item_end
    return tag, items


def content(tlv: bytes) -> bytes:
    """The content octets of one TLV."""
    _, start, end = _read(tlv, 0)
    return tlv[start:end]


def bit_string(data: bytes) -> bytes:
    """A BIT STRING with no unused bits."""
    return encode(BIT_STRING, b"\x00" + data)


def generalized_time(moment: datetime) -> bytes:
    """A GeneralizedTime in UTC to the second, as DER requires."""
    return encode(GENERALIZED_TIME, moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode())


def replace_signature(signed: bytes, tbs: bytes, signature: bytes) -> bytes:
    """``SEQUENCE { tbs, algorithm, BIT STRING }`` with a new tbs and signature, rest kept."""
    _, items = children(signed)
    if len(items) < 3:
        raise ValueError("not a signed structure")
    return encode(SEQUENCE, tbs + items[1] + bit_string(signature) + b"".join(items[3:]))
