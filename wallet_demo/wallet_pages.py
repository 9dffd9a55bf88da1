"""The learner's demo wallet pages: sign in, claim, import, view, download, share, present.

Thin: every decision is made by ``app.holder.Wallet``; this module reads forms, checks the session and
its CSRF synchronizer token on every state-changing request, and renders templates (autoescaped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import WalletDep, read_body
from app.errors import MicrocredError, NotFoundError, PayloadTooLargeError
from app.holder import SHARE_DEFAULT_DAYS, SHARE_MAX_DAYS, Gone, Wallet, safe_next
from wallet_demo import templates
from wallet_demo.i18n import language, translations
from wallet_demo.issuers import SameServiceIssuers
from wallet_demo.verify_page import display_facts

router = APIRouter(tags=["wallet"], include_in_schema=False)
COOKIE = "mc_wallet"
FORM_LIMIT = 64 * 1024
UPLOAD_LIMIT = 11 * 1024 * 1024
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


class CsrfRefused(MicrocredError):
    code = "CSRF_TOKEN_INVALID"
    status = 403
    title = "Form expired"


def _wallet(request: Request) -> Wallet:
    return request.app.state.wallet


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(PAGE_HEADERS)
    return response


def _set_cookie(response: Response, wallet: Wallet, value: str) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=wallet.secure_cookies, path="/", max_age=12 * 3600)


async def _session(request: Request):
    return await run_in_threadpool(_wallet(request).session, request.cookies.get(COOKIE))


async def _anonymous_csrf(request: Request, response_factory):
    """A page with a form before sign-in: reuse the session, or start an anonymous one for its CSRF token."""
    wallet = _wallet(request)
    sess = await _session(request)
    if sess is not None:
        return response_factory(sess.csrf_token)
    raw, csrf = await run_in_threadpool(wallet.new_session, None)
    response = response_factory(csrf)
    _set_cookie(response, wallet, raw)
    return response


async def _form(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        declared = request.headers.get("content-length")
        if not declared or not declared.isdigit() or int(declared) > UPLOAD_LIMIT:
            raise PayloadTooLargeError("the upload is too large (or its size is not declared)")
        form = await request.form(max_files=1, max_fields=20)
        out: dict[str, Any] = {}
        for key, value in form.multi_items():
            out.setdefault(key, []).append(value)
        return out
    if not media and request.headers.get("content-length", "0") == "0":
        return {}  # an empty POST: no fields, so no CSRF token either
    if media != "application/x-www-form-urlencoded":
        raise MicrocredError("send an HTML form", code="UNSUPPORTED_MEDIA_TYPE")
    from urllib.parse import parse_qs

    raw = await read_body(request, FORM_LIMIT)
    return {k: v for k, v in parse_qs(raw.decode("utf-8", "replace"), max_num_fields=200).items()}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _one(form: dict[str, Any], key: str) -> str | None:
    values = form.get(key) or []
    return values[0] if values and isinstance(values[0], str) else None


async def _checked(request: Request, *, signed_in: bool = True):
    """(session, learner, form) of a state-changing request, refusing a missing or wrong CSRF token."""
    sess = await _session(request)
    form = await _form(request)
    if sess is None or not Wallet.csrf_ok(sess, _one(form, "csrf")):
        raise CsrfRefused("this form has expired or did not come from this wallet; reload the page and try again")
    learner = None
    if signed_in:
        if sess.learner_id is None:
            raise CsrfRefused("sign in first")
        learner = await run_in_threadpool(_wallet(request).learner, sess.learner_id)
    return sess, learner, form


async def _signed_in(request: Request):
    sess = await _session(request)
    if sess is None or sess.learner_id is None:
        return sess, None
    return sess, await run_in_threadpool(_wallet(request).learner, sess.learner_id)


def _to_signin(path: str) -> RedirectResponse:
    return RedirectResponse(f"/wallet/signin?next={quote(path, safe='/')}", status_code=303)


class SignInRequired(Exception):
    """A page for signed-in learners asked for without a session: answered by a redirect to sign-in
    that comes back to ``path`` (``install_handlers``)."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@dataclass(frozen=True)
class SignedInLearner:
    session: Any
    learner: Any


async def _require_learner(request: Request, wallet: WalletDep) -> SignedInLearner:
    sess = await run_in_threadpool(wallet.session, request.cookies.get(COOKIE))
    if sess is None or sess.learner_id is None:
        # the query comes back too (a pasted offer link, ``/wallet/receive?link=``) when it is short enough to
        # travel in the sign-in link (``safe_next``)
        query = request.url.query
        path = request.url.path + ("?" + query if query else "")
        raise SignInRequired(path if safe_next(path) else request.url.path)
    return SignedInLearner(sess, await run_in_threadpool(wallet.learner, sess.learner_id))


#: The signed-in learner of a page; without a session, the page redirects to sign-in and back.
SignedIn = Annotated[SignedInLearner, Depends(_require_learner)]


def install_handlers(app) -> None:
    async def to_signin(request: Request, exc: SignInRequired) -> Response:
        return _to_signin(exc.path)

    app.add_exception_handler(SignInRequired, to_signin)


# -- sign-in ---------------------------------------------------------------------------------------


@router.get("/wallet/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    target = next if safe_next(next) else None
    waiting = None
    if target and target.startswith("/wallet/claim/"):  # say what is waiting, and from whom
        try:
            waiting = (await run_in_threadpool(_wallet(request).offer_preview, target.removeprefix("/wallet/claim/")[:200]))["card"]
        except NotFoundError:
            waiting = None
    return await _anonymous_csrf(request, lambda csrf: _render(request, "wallet_signin.html", csrf=csrf, next=target, waiting=waiting))


@router.post("/wallet/signin")
async def signin_request(request: Request) -> Response:
    sess, _, form = await _checked(request, signed_in=False)
    email = _one(form, "email") or ""
    target = _one(form, "next")
    try:
        await run_in_threadpool(_wallet(request).request_signin, email, target if safe_next(target) else None)
    except MicrocredError as exc:
        return _render(request, "wallet_signin.html", status=400, csrf=sess.csrf_token, next=target, error=exc.detail, email=email)
    return _render(request, "wallet_signin_sent.html", email=email)


@router.get("/wallet/signin/{link}")
async def signin_confirm_page(request: Request, link: str, next: str | None = None) -> Response:
    """A link scanner that fetches this page signs nobody in: the learner presses the button (POST)."""
    target = next if safe_next(next) else None
    return await _anonymous_csrf(request, lambda csrf: _render(request, "wallet_signin_confirm.html", csrf=csrf, link=link, next=target))


@router.post("/wallet/signin-confirm")
async def signin_confirm(request: Request) -> Response:
    sess, _, form = await _checked(request, signed_in=False)
    wallet = _wallet(request)
    try:
        learner = await run_in_threadpool(wallet.complete_signin, _one(form, "link") or "")
    except NotFoundError as exc:
        return _render(request, "wallet_message.html", status=404, title="Sign-in link not valid", message=exc.detail)
    # A new session id at sign-in (no session fixation); the anonymous one ends.
    await run_in_threadpool(wallet.end_session, request.cookies.get(COOKIE))
    raw, _ = await run_in_threadpool(wallet.new_session, learner.id)
    target = _one(form, "next")
    response = RedirectResponse(target if safe_next(target) else "/wallet", status_code=303)
    _set_cookie(response, wallet, raw)
    return response


@router.post("/wallet/signout")
async def signout(request: Request) -> Response:
    await _checked(request, signed_in=False)
    await run_in_threadpool(_wallet(request).end_session, request.cookies.get(COOKIE))
    response = RedirectResponse("/wallet/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- the wallet ------------------------------------------------------------------------------------


@router.get("/wallet")
async def wallet_home(request: Request, signed_in: SignedIn) -> Response:
    sess, learner = signed_in.session, signed_in.learner
    wallet = _wallet(request)
    cards = await run_in_threadpool(wallet.cards, learner)
    offers = await run_in_threadpool(wallet.pending_offers, learner)
    return _render(request, "wallet.html", learner=learner, csrf=sess.csrf_token, cards=cards, offers=offers)


@router.get("/wallet/claim/{link}")
async def claim_page(request: Request, signed_in: SignedIn, link: str) -> Response:
    sess, learner = signed_in.session, signed_in.learner
    try:
        view = await run_in_threadpool(_wallet(request).offer_preview, link)
    except NotFoundError as exc:
        return _render(request, "wallet_message.html", status=404, title="Claim link not valid", message=exc.detail)
    return _render(request, "wallet_claim.html", learner=learner, csrf=sess.csrf_token, link=link, card=view["card"])


@router.post("/wallet/claim")
async def claim(request: Request) -> Response:
    _, learner, form = await _checked(request)
    try:
        holding = await run_in_threadpool(lambda: _wallet(request).claim(learner, raw=_one(form, "link") or ""))
    except NotFoundError as exc:
        return _render(request, "wallet_message.html", status=404, title="Claim link not valid", message=exc.detail)
    return RedirectResponse(f"/wallet/credentials/{holding.id}", status_code=303)


@router.post("/wallet/offers/{offer_id}/accept")
async def accept_offer(request: Request, offer_id: str) -> Response:
    _, learner, _ = await _checked(request)
    holding = await run_in_threadpool(lambda: _wallet(request).claim(learner, offer_id=offer_id))
    return RedirectResponse(f"/wallet/credentials/{holding.id}", status_code=303)


@router.post("/wallet/import")
async def import_credential(request: Request) -> Response:
    _, learner, form = await _checked(request)
    upload = (form.get("file") or [None])[0]
    pasted = _one(form, "text")
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(UPLOAD_LIMIT + 1)
    else:
        data = (pasted or "").encode()
    if not data.strip():
        raise MicrocredError("choose a credential file (JSON, JWT or PDF) or paste one", code="NOTHING_TO_IMPORT")
    holding = await run_in_threadpool(_wallet(request).import_credential, learner, data)
    return RedirectResponse(f"/wallet/credentials/{holding.id}", status_code=303)


@router.get("/wallet/credentials/{holding_id}")
async def credential_page(request: Request, signed_in: SignedIn, holding_id: str) -> Response:
    sess, learner = signed_in.session, signed_in.learner
    card = await run_in_threadpool(_wallet(request).detail, learner, holding_id)
    facts = None
    if card.credential is not None and card.summary.get("format") in ("edc", "ob3"):
        try:  # the verify page's display of the same elements (one display for one element)
            facts = display_facts(card.summary, card.credential, language(request))
        except Exception:  # a credential whose facts cannot be read shows its raw elements only, never a 500
            facts = None
    return _render(
        request,
        "wallet_credential.html",
        learner=learner,
        csrf=sess.csrf_token,
        card=card,
        facts=facts,
        json=_pretty(card.credential) if card.credential else "",
        report_json=_pretty({"verdict": card.report.get("verdict"), "checks": card.report.get("checks", [])}) if isinstance(card.report, dict) else "",
        default_days=SHARE_DEFAULT_DAYS,
        pdf_days=sorted({SHARE_DEFAULT_DAYS, 30, 90, SHARE_MAX_DAYS} - {1}),
    )


@router.get("/wallet/credentials/{holding_id}/download")
async def download(request: Request, holding_id: str) -> Response:
    _, learner = await _signed_in(request)
    if learner is None:
        raise NotFoundError("no such credential in this wallet")
    holding = await run_in_threadpool(_wallet(request).holding, learner, holding_id)
    ext = "jwt" if holding.media_type.endswith("jwt") else "json"
    return Response(
        holding.body,
        media_type=holding.media_type,
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="credential-{holding.id[:8]}.{ext}"'},
    )


@router.post("/wallet/credentials/{holding_id}/pdf")
async def download_pdf(request: Request, holding_id: str) -> Response:
    _, learner, form = await _checked(request)
    days_text = _one(form, "days") or str(SHARE_DEFAULT_DAYS)
    if not days_text.isascii() or not days_text.isdigit() or len(days_text) > 3:
        raise MicrocredError("the QR code's lifetime is a number of days", code="INVALID_EXPIRY")
    lang = language(request)
    body, name = await run_in_threadpool(lambda: _wallet(request).pdf(learner, holding_id, days=int(days_text), lang=lang, gettext=translations(lang).gettext))
    return Response(body, media_type="application/pdf", headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/wallet/credentials/{holding_id}/delete")
async def delete(request: Request, holding_id: str) -> Response:
    _, learner, _ = await _checked(request)
    await run_in_threadpool(_wallet(request).delete, learner, holding_id)
    return RedirectResponse("/wallet", status_code=303)


# -- shares ----------------------------------------------------------------------------------------


@router.get("/wallet/shares")
async def shares_page(request: Request, signed_in: SignedIn) -> Response:
    sess, learner = signed_in.session, signed_in.learner
    wallet = _wallet(request)
    cards = await run_in_threadpool(wallet.cards, learner)
    shares = await run_in_threadpool(wallet.shares, learner)
    titles = {c.id: c.title for c in cards}
    return _render(
        request,
        "wallet_shares.html",
        learner=learner,
        csrf=sess.csrf_token,
        cards=cards,
        shares=shares,
        titles=titles,
        default_days=SHARE_DEFAULT_DAYS,
        max_days=SHARE_MAX_DAYS,
        now=wallet.clock(),
    )


@router.post("/wallet/shares")
async def create_share(request: Request) -> Response:
    sess, learner, form = await _checked(request)
    days_text = _one(form, "days") or str(SHARE_DEFAULT_DAYS)
    days = int(days_text) if days_text.isascii() and days_text.isdigit() and len(days_text) < 4 else 0
    share = await run_in_threadpool(lambda: _wallet(request).create_share(learner, form.get("holding") or [], days=days, label=_one(form, "label")))
    return _render(request, "wallet_share_created.html", learner=learner, csrf=sess.csrf_token, share=share)


@router.post("/wallet/shares/{share_id}/revoke")
async def revoke_share(request: Request, share_id: str) -> Response:
    _, learner, _ = await _checked(request)
    await run_in_threadpool(_wallet(request).revoke_share, learner, share_id)
    return RedirectResponse("/wallet/shares", status_code=303)


@router.get("/wallet/shared/{link}")
async def shared_page(request: Request, link: str) -> Response:
    """What a recipient of a share link sees: each credential re-verified now. Nothing once revoked or expired."""
    try:
        share, cards = await run_in_threadpool(_wallet(request).open_share, link, request.headers.get("user-agent"))
    except (NotFoundError, Gone) as exc:
        return _render(request, "wallet_message.html", status=exc.status, title=exc.title, message="There is nothing to show at this address.")
    response = _render(request, "wallet_shared.html", share=share, cards=cards)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- presentations ---------------------------------------------------------------------------------


@router.get("/wallet/present")
async def present_page(request: Request, signed_in: SignedIn) -> Response:
    sess, learner = signed_in.session, signed_in.learner
    cards = await run_in_threadpool(_wallet(request).cards, learner)
    return _render(request, "wallet_present.html", learner=learner, csrf=sess.csrf_token, cards=cards)


@router.post("/wallet/present")
async def present(request: Request) -> Response:
    sess, learner, form = await _checked(request)
    wallet = _wallet(request)
    vp = await run_in_threadpool(
        lambda: wallet.present(learner, form.get("holding") or [], challenge=_one(form, "challenge") or "", domain=_one(form, "domain") or "")
    )
    cards = await run_in_threadpool(wallet.cards, learner)
    return _render(request, "wallet_present.html", learner=learner, csrf=sess.csrf_token, cards=cards, vp=_pretty(vp))


# -- OpenID4VP: answering a verifier's request -----------------------------------------------------


@router.get("/wallet/oid4vp")
async def oid4vp_page(request: Request, signed_in: SignedIn, link: str | None = None) -> Response:
    """Paste an ``openid4vp://`` request (or come from the employer's page with it): what is asked, by whom, and
    the learner's credentials that answer it, with each SD-JWT VC claim to disclose or withhold."""
    sess, learner = signed_in.session, signed_in.learner
    asked, error = None, None
    if link:
        try:
            asked = await run_in_threadpool(_wallet(request).oid4vp_request, learner, link, request.app.state.presentation_requests)
        except MicrocredError as exc:
            error = exc.detail
    cards = {c.id: c for c in await run_in_threadpool(_wallet(request).cards, learner)} if asked else {}
    status = 400 if error else 200
    return _render(request, "wallet_oid4vp.html", status, learner=learner, csrf=sess.csrf_token, link=link or "", asked=asked, cards=cards, error=error)


@router.post("/wallet/oid4vp")
async def oid4vp_respond(request: Request) -> Response:
    _, learner, form = await _checked(request)
    link = _one(form, "link") or ""
    holding = _one(form, "holding") or ""
    chosen = [c for c in form.get("claim") or [] if isinstance(c, str)]
    out = await run_in_threadpool(_wallet(request).oid4vp_respond, learner, link, request.app.state.presentation_requests, holding, chosen)
    sess = await _session(request)
    return _render(request, "wallet_oid4vp.html", learner=learner, csrf=sess.csrf_token, link="", asked=None, cards={}, sent=out, error=None)


# -- OpenID4VCI: receiving from an issuer ----------------------------------------------------------


def _issuers(request: Request) -> SameServiceIssuers:
    return SameServiceIssuers(request.app.state.oid4vci, request.app.state.settings.base_url)


def _receive_error(request: Request, exc: MicrocredError) -> tuple[str, str | None]:
    """(what the learner reads, what the issuer said) of a refused offer or redemption."""
    _ = translations(language(request)).gettext
    said = getattr(exc, "error", None) and exc.detail  # the issuer's own words, shown beside ours
    if exc.code == "OID4VCI_INVALID_GRANT" and exc.detail.startswith("wrong tx_code"):
        if "burnt" in exc.detail:
            return _("The code was wrong too many times: this offer can no longer be used. Ask the issuer for a new one."), said
        return _("This code is not the right one. Check the code the issuer sent you and type it again."), said
    if exc.code in ("OID4VCI_INVALID_GRANT", "OID4VCI_OFFER_GONE"):
        return _("This offer has been used already or has expired. Ask the issuer for a new one."), said
    if exc.code == "OID4VCI_TX_CODE_MISSING":
        return _("Type the code the issuer sent you."), None
    if exc.code == "OID4VCI_FOREIGN_ISSUER":
        return _("This demo wallet receives credentials from the issuers of this service only."), None
    if exc.code == "INVALID_CREDENTIAL_OFFER":
        return _("This is not a credential offer this wallet can read: %(reason)s") % {"reason": exc.detail}, None
    return _("The issuer refused: %(reason)s") % {"reason": exc.detail}, None


@router.get("/wallet/receive")
async def receive_page(request: Request, signed_in: SignedIn, link: str | None = None) -> Response:
    """Paste an ``openid-credential-offer://`` link (or come from an ``/offers/{id}`` page with it): who offers what,
    in which forms, and the tx_code to type. Reading an offer redeems nothing."""
    sess, learner = signed_in.session, signed_in.learner
    offered, error, code, said = None, None, None, None
    if link:
        try:
            offered = await run_in_threadpool(_wallet(request).oid4vci_offer, link, _issuers(request))
        except MicrocredError as exc:
            (error, said), code = _receive_error(request, exc), exc.code
    return _render(
        request,
        "wallet_receive.html",
        400 if error else 200,
        learner=learner,
        csrf=sess.csrf_token,
        link=link or "",
        offered=offered,
        chosen=None,
        error=error,
        error_code=code,
        issuer_said=said,
    )


@router.post("/wallet/receive")
async def receive(request: Request) -> Response:
    """OpenID4VCI pre-authorized code flow with the learner's tx_code; the credential kept, then shown."""
    sess, learner, form = await _checked(request)
    link, chosen = _one(form, "link") or "", _one(form, "configuration") or ""
    wallet, issuers = _wallet(request), _issuers(request)
    try:
        holding = await run_in_threadpool(wallet.oid4vci_receive, learner, link, issuers, chosen, _one(form, "tx_code"))
    except MicrocredError as exc:
        (error, said), code = _receive_error(request, exc), exc.code
        try:  # the offer again, so that a mistyped code can be typed again
            offered = await run_in_threadpool(wallet.oid4vci_offer, link, issuers)
        except MicrocredError:
            offered = None
        status = exc.status if 400 <= exc.status < 500 else 400
        return _render(
            request,
            "wallet_receive.html",
            status,
            learner=learner,
            csrf=sess.csrf_token,
            link=link if offered else "",
            offered=offered,
            chosen=chosen,
            error=error,
            error_code=code,
            issuer_said=said,
        )
    return RedirectResponse(f"/wallet/credentials/{holding.id}", status_code=303)
