"""The wallet's repository: learners, sign-in links, sessions, offers, holdings, shares and their views.

Plain values in, frozen dataclasses out. Every read of a learner's data takes the learner's id, so a
query for another learner's holding or share finds nothing (``NotFoundError``: the API answers 404).
Tokens arrive here already hashed; this module never sees a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ConflictError, NotFoundError
from app.store.models import Credential, utcnow
from app.store.wallet_models import Holding, Learner, Offer, Share, ShareItem, ShareView, SigninLink, WalletSession


@dataclass(frozen=True)
class LearnerRow:
    id: int
    email: str
    holder_did: str
    key_ref: str
    created_at: datetime


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    learner_id: int | None
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class OfferRow:
    id: str
    credential_id: str
    learner_ref: str | None
    created_at: datetime
    expires_at: datetime
    claimed_at: datetime | None
    claimed_by: int | None


@dataclass(frozen=True)
class HoldingRow:
    id: str
    learner_id: int
    credential_id: str | None
    source: str
    media_type: str
    body: bytes
    verified_on_receipt: bool
    problem: str | None
    created_at: datetime


@dataclass(frozen=True)
class ShareRow:
    id: str
    learner_id: int
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    holding_ids: tuple[str, ...] = ()
    views: tuple[tuple[datetime, str], ...] = ()


def _learner(row: Learner) -> LearnerRow:
    return LearnerRow(row.id, row.email, row.holder_did, row.key_ref, row.created_at)


def _offer(row: Offer) -> OfferRow:
    return OfferRow(row.id, row.credential_id, row.learner_ref, row.created_at, row.expires_at, row.claimed_at, row.claimed_by)


def _holding(row: Holding) -> HoldingRow:
    return HoldingRow(
        row.id, row.learner_id, row.credential_id, row.source, row.media_type, bytes(row.body), row.verified_on_receipt, row.problem, row.created_at
    )


# -- learners


def find_learner_by_email(session: Session, email: str) -> LearnerRow | None:
    row = session.scalars(select(Learner).where(Learner.email == email)).one_or_none()
    return _learner(row) if row else None


def get_learner(session: Session, learner_id: int) -> LearnerRow:
    row = session.get(Learner, learner_id)
    if row is None:
        raise NotFoundError("no such learner")
    return _learner(row)


def create_learner(session: Session, *, email: str, holder_did: str, key_ref: str) -> LearnerRow:
    row = Learner(email=email, holder_did=holder_did, key_ref=key_ref, created_at=utcnow())
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError("a learner with this e-mail exists", code="LEARNER_EXISTS") from exc
    return _learner(row)


# -- sign-in links and sessions


def add_signin_link(session: Session, *, token_hash: str, email: str, expires_at: datetime) -> None:
    session.add(SigninLink(token_hash=token_hash, email=email, created_at=utcnow(), expires_at=expires_at))
    session.flush()


def use_signin_link(session: Session, token_hash: str, now: datetime) -> str | None:
    """Mark a link used (once, before it expires) and return its e-mail; None if unknown, used or expired."""
    result = session.execute(
        update(SigninLink)
        .where(SigninLink.token_hash == token_hash, SigninLink.used_at.is_(None), SigninLink.expires_at > now)
        .values(used_at=now)
        .returning(SigninLink.email)
    ).first()
    return result[0] if result else None


def add_session(session: Session, *, id_hash: str, learner_id: int | None, csrf_token: str, expires_at: datetime) -> None:
    session.add(WalletSession(id_hash=id_hash, learner_id=learner_id, csrf_token=csrf_token, created_at=utcnow(), expires_at=expires_at))
    session.flush()


def get_session(session: Session, id_hash: str, now: datetime) -> SessionRow | None:
    row = session.get(WalletSession, id_hash)
    if row is None or row.expires_at <= now:
        return None
    return SessionRow(row.id_hash, row.learner_id, row.csrf_token, row.expires_at)


def delete_session(session: Session, id_hash: str) -> None:
    session.execute(delete(WalletSession).where(WalletSession.id_hash == id_hash))


# -- offers


def add_offer(session: Session, *, offer_id: str, token_hash: str, credential_id: str, learner_ref: str | None, expires_at: datetime) -> OfferRow:
    row = Offer(id=offer_id, token_hash=token_hash, credential_id=credential_id, learner_ref=learner_ref, created_at=utcnow(), expires_at=expires_at)
    session.add(row)
    session.flush()
    return _offer(row)


def find_offer(session: Session, *, token_hash: str | None = None, offer_id: str | None = None) -> OfferRow | None:
    query = select(Offer).where(Offer.token_hash == token_hash) if token_hash else select(Offer).where(Offer.id == offer_id)
    row = session.scalars(query).one_or_none()
    return _offer(row) if row else None


def claim_offer(session: Session, offer_id: str, learner_id: int, now: datetime) -> bool:
    """Single use: exactly one claim of an unexpired offer succeeds, even when two race."""
    result = session.execute(
        update(Offer).where(Offer.id == offer_id, Offer.claimed_at.is_(None), Offer.expires_at > now).values(claimed_at=now, claimed_by=learner_id)
    )
    return result.rowcount == 1


def pending_offers(session: Session, refs: list[str], now: datetime) -> list[OfferRow]:
    rows = session.scalars(
        select(Offer).where(Offer.learner_ref.in_(refs), Offer.claimed_at.is_(None), Offer.expires_at > now).order_by(Offer.created_at.desc())
    ).all()
    return [_offer(r) for r in rows]


def issued_credential(session: Session, credential_id: str) -> tuple[bytes, str, int]:
    """(body, media type, provider id) of a credential this service issued."""
    row = session.get(Credential, credential_id)
    if row is None:
        raise NotFoundError(f"no credential {credential_id}")
    return bytes(row.body), row.media_type, row.provider_id


# -- holdings


def add_holding(
    session: Session,
    *,
    holding_id: str,
    learner_id: int,
    credential_id: str | None,
    source: str,
    media_type: str,
    body: bytes,
    verified: bool,
    problem: str | None,
) -> HoldingRow:
    row = Holding(
        id=holding_id,
        learner_id=learner_id,
        credential_id=credential_id,
        source=source,
        media_type=media_type,
        body=bytes(body),
        verified_on_receipt=verified,
        problem=problem,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _holding(row)


def list_holdings(session: Session, learner_id: int) -> list[HoldingRow]:
    rows = session.scalars(select(Holding).where(Holding.learner_id == learner_id).order_by(Holding.created_at.desc(), Holding.id)).all()
    return [_holding(r) for r in rows]


def get_holding(session: Session, learner_id: int, holding_id: str) -> HoldingRow:
    row = session.scalars(select(Holding).where(Holding.id == holding_id, Holding.learner_id == learner_id)).one_or_none()
    if row is None:
        raise NotFoundError("no such credential in this wallet")
    return _holding(row)


def holds_credential(session: Session, learner_id: int, credential_id: str) -> bool:
    return session.scalar(select(func.count()).select_from(Holding).where(Holding.learner_id == learner_id, Holding.credential_id == credential_id)) > 0


def delete_holding(session: Session, learner_id: int, holding_id: str) -> None:
    get_holding(session, learner_id, holding_id)
    session.execute(delete(ShareItem).where(ShareItem.holding_id == holding_id))
    session.execute(delete(Holding).where(Holding.id == holding_id, Holding.learner_id == learner_id))


# -- shares


def add_share(
    session: Session,
    *,
    share_id: str,
    learner_id: int,
    token_hash: str,
    label: str | None,
    expires_at: datetime,
    holding_ids: list[str],
    created_at: datetime | None = None,
) -> None:
    for hid in holding_ids:
        get_holding(session, learner_id, hid)  # only one's own credentials can be shared
    session.add(Share(id=share_id, learner_id=learner_id, token_hash=token_hash, label=label, created_at=created_at or utcnow(), expires_at=expires_at))
    session.flush()
    for pos, hid in enumerate(holding_ids):
        session.add(ShareItem(share_id=share_id, holding_id=hid, position=pos))
    session.flush()


def _share(session: Session, row: Share) -> ShareRow:
    items = session.scalars(select(ShareItem.holding_id).where(ShareItem.share_id == row.id).order_by(ShareItem.position)).all()
    views = session.execute(select(ShareView.at, ShareView.agent).where(ShareView.share_id == row.id).order_by(ShareView.id.desc())).all()
    return ShareRow(row.id, row.learner_id, row.label, row.created_at, row.expires_at, row.revoked_at, tuple(items), tuple((v.at, v.agent) for v in views))


def list_shares(session: Session, learner_id: int) -> list[ShareRow]:
    rows = session.scalars(select(Share).where(Share.learner_id == learner_id).order_by(Share.created_at.desc(), Share.id)).all()
    return [_share(session, r) for r in rows]


def get_share(session: Session, learner_id: int, share_id: str) -> ShareRow:
    row = session.scalars(select(Share).where(Share.id == share_id, Share.learner_id == learner_id)).one_or_none()
    if row is None:
        raise NotFoundError("no such share")
    return _share(session, row)


def find_share_by_token(session: Session, token_hash: str) -> ShareRow | None:
    row = session.scalars(select(Share).where(Share.token_hash == token_hash)).one_or_none()
    return _share(session, row) if row else None


def revoke_share(session: Session, learner_id: int, share_id: str, now: datetime) -> None:
    get_share(session, learner_id, share_id)
    session.execute(update(Share).where(Share.id == share_id, Share.revoked_at.is_(None)).values(revoked_at=now))


def record_view(session: Session, share_id: str, at: datetime, agent: str) -> None:
    session.add(ShareView(share_id=share_id, at=at, agent=agent[:80]))
    session.flush()


def shared_holdings(session: Session, share: ShareRow) -> list[HoldingRow]:
    return [get_holding(session, share.learner_id, hid) for hid in share.holding_ids]
