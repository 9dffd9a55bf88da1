"""The holder: the learner wallet demo's domain (sign-in, holdings, shares, presentations) and the PDF.

* ``Wallet`` (``wallet``): every holder-side operation, for every learner of this service.
* ``render_pdf`` / ``extract_credential_from_pdf`` (``pdf``): a credential as a PDF a person reads and a
  machine checks, and back.
* ``oid4vci`` / ``oid4vp``: the wallet side of OpenID4VCI 1.0 (receiving from an offer) and OpenID4VP 1.0
  (answering a verifier's request).
"""

from app.holder.pdf import PdfCredentialError, extract_credential_from_pdf, render_pdf
from app.holder.wallet import SHARE_DEFAULT_DAYS, SHARE_MAX_DAYS, Card, Gone, Wallet, coarse_agent, normalize_email, safe_next

__all__ = [
    "SHARE_DEFAULT_DAYS",
    "SHARE_MAX_DAYS",
    "Card",
    "Gone",
    "PdfCredentialError",
    "Wallet",
    "coarse_agent",
    "extract_credential_from_pdf",
    "normalize_email",
    "render_pdf",
    "safe_next",
]
