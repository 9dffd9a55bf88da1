"""Each check's reason in the page's language (issue 14).

The verifier (app/verification) writes its reasons in English, for the API and its logs. The pages map each
check id and outcome (and, where it says more, the error code: VC Data Model 2.0 §7.1 "Verification" problem
types, the trust registry's and status list's codes) to a sentence marked for translation here. The verifier's own
words are kept: the page shows them in the "the verifier's report as JSON" view, and an English page shows them
as they are (they are the most precise English there is).
"""

from __future__ import annotations

from typing import Any

from wallet_demo.i18n import DEFAULT, N_

#: (check id, outcome, code) -> sentence; a code of None is the sentence for any code of that outcome.
SENTENCES: dict[tuple[str, str, str | None], str] = {
    ("well_formed", "passed", None): N_("A well-formed credential: every term is defined, nothing is lost when it is read."),
    ("well_formed", "failed", None): N_("It cannot be read as a verifiable credential."),
    ("proof", "passed", None): N_("The signature verifies: the content is as it was signed."),
    ("proof", "failed", "INVALID_VERIFICATION_METHOD"): N_("The institution's key could not be found to check the signature."),
    ("proof", "failed", "NOT_FOUND_ERROR"): N_("The institution's key could not be found to check the signature."),
    ("proof", "failed", None): N_("The signature does not match the content: altered after it was signed, or not signed at all."),
    ("issuer_binding", "passed", None): N_("Signed with a key of the institution it names."),
    ("issuer_binding", "failed", None): N_("Not signed with a key of the institution it names."),
    ("holder_binding", "passed", None): N_("Presented by its holder, with the holder's own key."),
    ("holder_binding", "failed", None): N_("The presentation was not signed by the credential's holder."),
    ("holder_binding", "skipped", None): N_("The presentation does not prove who holds the credential."),
    ("challenge", "passed", None): N_("A fresh challenge from this verifier, now used up."),
    ("challenge", "failed", "INVALID_DOMAIN_ERROR"): N_("The challenge was issued for another site."),
    ("challenge", "failed", None): N_("The challenge has expired or was already used: the presentation may be replayed."),
    ("challenge", "skipped", None): N_("The challenge was not checked, since the presentation's signature does not verify."),
    ("disclosures", "passed", None): N_("The learner chose which elements to disclose; every disclosed element is signed."),
    ("disclosures", "failed", None): N_("A disclosed element does not match what the institution signed."),
    ("validity", "passed", None): N_("Within its validity dates."),
    ("validity", "failed", None): N_("Outside its validity dates."),
    ("status", "passed", None): N_("Not revoked nor suspended, checked in the issuer's status list just now."),
    ("status", "failed", "STATUS_REVOKED"): N_("Revoked by its issuer."),
    ("status", "failed", "STATUS_SUSPENDED"): N_("Suspended by its issuer."),
    ("status", "failed", None): N_("The issuer's status list does not say it is valid."),
    ("status", "indeterminate", None): N_("The issuer's status list could not be read: whether it has been revoked is not known."),
    ("status", "skipped", None): N_("The credential carries no status: it cannot be revoked."),
    ("issuer_trust", "passed", None): N_("The institution is in this verifier's trust registry."),
    ("issuer_trust", "failed", "ACCREDITATION_NOT_HELD"): N_("The institution is listed, but does not hold its accreditation."),
    ("issuer_trust", "failed", None): N_("The institution is listed as not trusted."),
    ("issuer_trust", "indeterminate", "UNKNOWN_ISSUER"): N_("The institution is not in this verifier's trust registry."),
    ("issuer_trust", "indeterminate", "ACCREDITATION_EXPIRED"): N_("The institution is listed, but its accreditation has ended."),
    ("issuer_trust", "indeterminate", "ACCREDITATION_NOT_YET_VALID"): N_("The institution is listed, but its accreditation has not begun."),
    ("issuer_trust", "indeterminate", None): N_("The trust registry could not be read."),
    ("eu_completeness", "passed", None): N_("Every mandatory EU micro-credential element is present."),
    ("eu_completeness", "indeterminate", None): N_("Not every mandatory EU micro-credential element is present."),
    ("eu_completeness", "skipped", None): N_("Not an EU micro-credential (neither a Europass credential nor an Open Badge 3.0)."),
    ("composite", "passed", None): N_("Every component is valid and meets the composite's rules."),
    ("composite", "failed", None): N_("A component is not valid, or the components do not meet the composite's rules."),
    ("composite", "indeterminate", None): N_("Not every component could be checked."),
    ("type_metadata", "passed", None): N_("The credential's type is this service's EU micro-credential type."),
    ("type_metadata", "failed", None): N_("The credential's type does not match its description."),
    ("type_metadata", "skipped", None): N_("The credential's type is described elsewhere, and was not fetched."),
    ("seal_certificate", "passed", None): N_("Sealed with a qualified certificate of the institution."),
    ("seal_certificate", "failed", None): N_("The seal's certificate is not valid."),
    ("seal_certificate", "indeterminate", None): N_("The seal's certificate could not be fully checked."),
    ("seal_trusted_list", "passed", None): N_("The seal's issuer is a qualified trust service on the EU trusted lists."),
    ("seal_trusted_list", "indeterminate", None): N_("Whether the seal's issuer is on the EU trusted lists is not established here."),
    ("seal_trusted_list", "failed", None): N_("The seal's issuer is not a qualified trust service for seals on the EU trusted lists."),
    ("seal_timestamps", "indeterminate", None): N_("Its time stamps are not checked against the EU trusted lists: none proves when it was sealed."),
    ("seal_timestamps", "skipped", None): N_("The seal carries no time stamp: its signing time is the sealer's own claim."),
    ("scope", "skipped", None): N_("Only the signatures were checked, as asked: not the institution, dates, status or trust."),
}
#: any other check, by its outcome
BY_OUTCOME = {
    "passed": N_("This check passed."),
    "failed": N_("This check failed."),
    "indeterminate": N_("This check could not be completed."),
    "skipped": N_("This check does not apply."),
}


def sentence(check_id: str, outcome: str, code: str | None) -> str | None:
    """The untranslated sentence for a check, or None for an outcome the page says otherwise ("not run")."""
    return SENTENCES.get((check_id, outcome, code)) or SENTENCES.get((check_id, outcome, None)) or BY_OUTCOME.get(outcome)


def reason_in(check_id: str, outcome: str, code: str | None, reason: str, lang: str, gettext) -> str:
    """What the page says of one check in ``lang``: the verifier's own words on an English page, else the
    translated sentence (the verifier's words when there is none)."""
    if lang == DEFAULT:
        return reason
    found = sentence(check_id, outcome, code)
    return gettext(found) if found else reason


def install(env) -> None:
    """``check_reason(c)`` for templates that show a stored report's checks (the wallet's detail page)."""
    from jinja2 import pass_context

    from wallet_demo.i18n import language, translations

    @pass_context
    def check_reason(context, c: dict[str, Any]) -> str:
        request = context.get("request")
        lang = language(request) if request is not None else DEFAULT
        return reason_in(c.get("id", ""), c.get("outcome", ""), c.get("code"), c.get("reason", ""), lang, translations(lang).gettext)

    env.globals["check_reason"] = check_reason
