"""OpenID4VCI 1.0 storage: credential offers, access tokens and single-use nonces (``app/issuance/oid4vci.py``).

Every use-once step is one conditional UPDATE (``… WHERE state = 'offered'``, ``… WHERE used_at IS NULL AND
expires_at > now``): the database decides which of two concurrent uses wins, on SQLite and PostgreSQL alike, across
worker processes (as ``challenges.consume``). A DPoP ``jti`` is recorded with ``INSERT … ON CONFLICT DO NOTHING``:
the second sight of it inserts nothing.

The statements of a redemption's path (token, nonce, credential) are Core statements on the tables, built once at
import and executed with bound parameters: building an ORM statement per call, its cache key, the ORM's bulk-update
and unit-of-work machinery cost more than running the statement (some 40 % of a redemption's CPU in the workers,
issue 15's bench). The column types (``UTCDateTime``, ``JSONValue``) still process every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from app.store._common import insert_ignore
from app.store.models import Oid4vciNonce, Oid4vciOffer, Oid4vciToken

__all__ = [
    "OfferRecord",
    "TokenRecord",
    "consume_nonce",
    "count_tx_code_failure",
    "create_nonce",
    "create_offer",
    "create_token",
    "exchange_code",
    "get_offer",
    "get_token",
    "nonce_usable",
    "offer_by_code",
    "purge",
    "record_jti",
    "redeem",
]


@dataclass(frozen=True)
class OfferRecord:
    id: str
    provider_id: int
    pre_authorized_code: str
    tx_code_hash: str | None
    tx_code_failures: int
    configurations: list[str]
    request: dict
    state: str
    credential_ids: list[str]
    created_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None


@dataclass(frozen=True)
class TokenRecord:
    token_hash: str
    offer_id: str
    dpop_jkt: str | None
    expires_at: datetime
    used_at: datetime | None


_OFFERS = Oid4vciOffer.__table__
_TOKENS = Oid4vciToken.__table__
_NONCES = Oid4vciNonce.__table__
_OFFER_COLUMNS = (
    _OFFERS.c.id,
    _OFFERS.c.provider_id,
    _OFFERS.c.pre_authorized_code,
    _OFFERS.c.tx_code_hash,
    _OFFERS.c.tx_code_failures,
    _OFFERS.c.configurations,
    _OFFERS.c.request,
    _OFFERS.c.state,
    _OFFERS.c.credential_ids,
    _OFFERS.c.created_at,
    _OFFERS.c.expires_at,
    _OFFERS.c.redeemed_at,
)
_GET_OFFER = select(*_OFFER_COLUMNS).where(_OFFERS.c.id == bindparam("id"))
_OFFER_BY_CODE = select(*_OFFER_COLUMNS).where(_OFFERS.c.pre_authorized_code == bindparam("code"))
_GET_TOKEN = select(_TOKENS.c.token_hash, _TOKENS.c.offer_id, _TOKENS.c.dpop_jkt, _TOKENS.c.expires_at, _TOKENS.c.used_at).where(
    _TOKENS.c.token_hash == bindparam("token_hash")
)
_LIVE_TOKEN = exists().where(_TOKENS.c.offer_id == bindparam("offer_id"), _TOKENS.c.used_at.is_(None), _TOKENS.c.expires_at > bindparam("now"))
_EXCHANGE = (
    update(_OFFERS)
    .where(
        _OFFERS.c.id == bindparam("offer_id"),
        (_OFFERS.c.state == "offered") | ((_OFFERS.c.state == "token") & ~_LIVE_TOKEN),
        _OFFERS.c.expires_at > bindparam("now"),
    )
    .values(state="token")
)
_CREATE_TOKEN = insert(_TOKENS)
_USE_TOKEN = (
    update(_TOKENS)
    .where(_TOKENS.c.token_hash == bindparam("b_token"), _TOKENS.c.used_at.is_(None), _TOKENS.c.expires_at > bindparam("now"))
    .values(used_at=bindparam("now"))
)
_REDEEM_OFFER = (
    update(_OFFERS)
    .where(_OFFERS.c.id == bindparam("offer_id"), _OFFERS.c.state == "token")
    .values(state="redeemed", credential_ids=bindparam("b_ids"), redeemed_at=bindparam("now"))
)
_CREATE_NONCE = insert(_NONCES)
_USABLE_NONCE = select(_NONCES.c.value).where(
    _NONCES.c.value == bindparam("value"), _NONCES.c.kind == "c_nonce", _NONCES.c.used_at.is_(None), _NONCES.c.expires_at > bindparam("now")
)
_CONSUME_NONCE = (
    update(_NONCES)
    .where(_NONCES.c.value == bindparam("b_value"), _NONCES.c.kind == "c_nonce", _NONCES.c.used_at.is_(None), _NONCES.c.expires_at > bindparam("now"))
    .values(used_at=bindparam("now"))
)


def _offer_row(row: Oid4vciOffer | Row) -> OfferRecord:
    return OfferRecord(
        row.id,
        row.provider_id,
        row.pre_authorized_code,
        row.tx_code_hash,
        row.tx_code_failures,
        list(row.configurations),
        dict(row.request),
        row.state,
        list(row.credential_ids or []),
        row.created_at,
        row.expires_at,
        row.redeemed_at,
    )


# An ORM object and a table row carry the same attribute names: one reader for both.
_offer = _offer_row


def create_offer(
    session: Session,
    *,
    offer_id: str,
    provider_id: int,
    pre_authorized_code: str,
    tx_code_hash: str | None,
    configurations: list[str],
    request: dict,
    now: datetime,
    expires_at: datetime,
) -> OfferRecord:
    row = Oid4vciOffer(
        id=offer_id,
        provider_id=provider_id,
        pre_authorized_code=pre_authorized_code,
        tx_code_hash=tx_code_hash,
        tx_code_failures=0,
        configurations=configurations,
        request=request,
        state="offered",
        credential_ids=None,
        created_at=now,
        expires_at=expires_at,
        redeemed_at=None,
    )
    session.add(row)
    session.flush()
    return _offer(row)


def get_offer(session: Session, offer_id: str) -> OfferRecord | None:
    row = session.execute(_GET_OFFER, {"id": offer_id}).first()
    return _offer_row(row) if row else None


def offer_by_code(session: Session, code: str) -> OfferRecord | None:
    row = session.execute(_OFFER_BY_CODE, {"code": code}).first()
    return _offer_row(row) if row else None


def count_tx_code_failure(session: Session, offer_id: str, *, burn_at: int) -> int:
    """One more wrong tx_code for an offer not yet redeemed (offered, or with a token); at ``burn_at`` failures the offer is burnt. The new count."""
    session.execute(
        update(Oid4vciOffer)
        .where(Oid4vciOffer.id == offer_id, Oid4vciOffer.state.in_(("offered", "token")))
        .values(tx_code_failures=Oid4vciOffer.tx_code_failures + 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Oid4vciOffer)
        .where(Oid4vciOffer.id == offer_id, Oid4vciOffer.state.in_(("offered", "token")), Oid4vciOffer.tx_code_failures >= burn_at)
        .values(state="burnt")
        .execution_options(synchronize_session=False)
    )
    return session.scalar(select(Oid4vciOffer.tx_code_failures).where(Oid4vciOffer.id == offer_id)) or 0


def exchange_code(session: Session, offer_id: str, *, now: datetime) -> bool:
    """The pre-authorized code used (``offered`` → ``token``), once, before the offer expires; True for one caller.

    An offer whose every token expired unused (``token``, not redeemed) may be exchanged again: an access token that
    lapses must not strand an unexpired offer (issue 15: "a redemption that fails leaves the offer redeemable"). While
    one of its tokens is still valid, the code is refused, and a redeemed offer is never exchanged again."""
    result = session.execute(_EXCHANGE, {"offer_id": offer_id, "now": now})
    return result.rowcount == 1


def create_token(session: Session, *, token_hash: str, offer_id: str, dpop_jkt: str | None, expires_at: datetime) -> None:
    session.execute(_CREATE_TOKEN, {"token_hash": token_hash, "offer_id": offer_id, "dpop_jkt": dpop_jkt, "expires_at": expires_at, "used_at": None})


def get_token(session: Session, token_hash: str) -> TokenRecord | None:
    row = session.execute(_GET_TOKEN, {"token_hash": token_hash}).first()
    return TokenRecord(row.token_hash, row.offer_id, row.dpop_jkt, row.expires_at, row.used_at) if row else None


def redeem(session: Session, *, token_hash: str, offer_id: str, credential_ids: list[str], now: datetime) -> bool:
    """The token used and the offer redeemed with ``credential_ids``, both once; True when both happened (the caller's
    transaction must then commit, else roll back)."""
    used = session.execute(_USE_TOKEN, {"b_token": token_hash, "now": now})
    if used.rowcount != 1:
        return False
    redeemed = session.execute(_REDEEM_OFFER, {"offer_id": offer_id, "b_ids": credential_ids, "now": now})
    return redeemed.rowcount == 1


def create_nonce(session: Session, value: str, *, expires_at: datetime) -> None:
    session.execute(_CREATE_NONCE, {"value": value, "kind": "c_nonce", "expires_at": expires_at, "used_at": None})


def nonce_usable(session: Session, value: str, *, now: datetime) -> bool:
    """A read: the c_nonce exists, is unused and unexpired (``consume_nonce`` decides, in the write)."""
    found = session.execute(_USABLE_NONCE, {"value": value, "now": now}).first()
    return found is not None


def consume_nonce(session: Session, value: str, *, now: datetime) -> bool:
    """A c_nonce used if it exists, is unused and unexpired; True for exactly one caller."""
    result = session.execute(_CONSUME_NONCE, {"b_value": value, "now": now})
    return result.rowcount == 1


def record_jti(session: Session, digest: str, *, now: datetime, expires_at: datetime) -> bool:
    """A DPoP proof's jti (its SHA-256, hex) seen for the first time: True; seen before: False (a replay)."""
    values = {"value": digest, "kind": "dpop_jti", "expires_at": expires_at, "used_at": now}
    return insert_ignore(session, Oid4vciNonce.__table__, values, ["value"], returning=[Oid4vciNonce.value]).first() is not None


def purge(session: Session, *, before: datetime) -> int:
    """Delete nonces and seen jtis that expired before ``before``; the number deleted."""
    result = session.execute(delete(Oid4vciNonce).where(Oid4vciNonce.expires_at < before).execution_options(synchronize_session=False))
    return result.rowcount or 0
