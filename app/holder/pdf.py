"""A credential as a PDF that a person can read and a machine can check.

``render_pdf`` lays out the credential's facts (in each of its languages), a QR code (segno) linking to a
verification page, and embeds the exact signed credential as a PDF attachment (ISO 32000-1 §7.11.4
embedded file streams, via fpdf2 ``embed_file``; PDF/A-3 calls the same mechanism an "associated file").
Its words are in the learner's language: they are marked here for translation (``N_``, extracted with the
pages' messages into wallet_demo/locales) and translated by the ``gettext`` the page layer passes in.

``extract_credential_from_pdf`` is what a verifier calls on an uploaded PDF: it reads the embedded
files with pypdf and returns the credential text (JSON or a compact JWS), decompressing with a cap so a
small PDF cannot inflate into a huge string (security-notes §9 applies to any compressed input).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import MicrocredError

#: names the wallet gives the attachment; any .json/.jwt attachment is accepted from other producers
ATTACHMENT_NAMES = ("credential.json", "credential.jwt")
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 1_048_576
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translated later"
    """Marks a message of the PDF for extraction (wallet_demo/locales); it is translated when the PDF is made."""
    return message


def _same(message: str) -> str:
    return message


#: the EU elements' labels in the PDF's table (app/holder/wallet.py lists the facts under these)
FACT_LABELS = (
    N_("Workload"),
    N_("Level"),
    N_("Field of education"),
    N_("Learning outcomes"),
    N_("Type of assessment"),
    N_("Form of participation"),
    N_("Quality assurance"),
    N_("Grade"),
    N_("Awarding body"),
)
#: the QF-EHEA cycle (an OB3 alignment's code, an EDC note's words) as the pages and the PDF name it
QF_EHEA_CYCLES = {
    "short-cycle": N_("QF-EHEA short cycle"),
    "short cycle": N_("QF-EHEA short cycle"),
    "first": N_("QF-EHEA first cycle"),
    "first cycle": N_("QF-EHEA first cycle"),
    "second": N_("QF-EHEA second cycle"),
    "second cycle": N_("QF-EHEA second cycle"),
    "third": N_("QF-EHEA third cycle"),
    "third cycle": N_("QF-EHEA third cycle"),
}
#: the values the wallet writes in words
ECTS, HOURS, EQF = N_("%(n)s ECTS credits"), N_("%(n)s hours"), N_("EQF level %(n)s")
ONE_DAY, DAYS = N_("%(date)s (1 day from the download)"), N_("%(date)s (%(n)s days from the download)")
UNTITLED = N_("Verifiable credential")


class PdfCredentialError(MicrocredError):
    """The PDF is unreadable, carries no credential, or carries one too large to accept."""

    code = "PDF_NO_CREDENTIAL"
    status = 400
    title = "No credential found in the PDF"


# -- reading -------------------------------------------------------------------------------------------


def _inflate(data: bytes, cap: int) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, cap + 1)
    if len(out) > cap or d.unconsumed_tail:
        raise PdfCredentialError(f"the embedded credential is larger than {cap} bytes", code="PDF_ATTACHMENT_TOO_LARGE")
    return out


def _stream_bytes(stream: Any, cap: int) -> bytes:
    """The decoded bytes of an embedded file stream: no filter or FlateDecode only, with a size cap."""
    filters = stream.get("/Filter")
    names = [str(f) for f in (filters if isinstance(filters, list) else [filters] if filters else [])]
    raw = stream._data  # the encoded bytes as stored; decoding happens here, under the cap
    if len(raw) > MAX_PDF_BYTES:
        raise PdfCredentialError("the embedded file is too large", code="PDF_ATTACHMENT_TOO_LARGE")
    if not names:
        data = raw
    elif names == ["/FlateDecode"] and not stream.get("/DecodeParms"):
        data = _inflate(raw, cap)
    else:
        raise PdfCredentialError(f"embedded file filter {names} is not supported", code="PDF_UNSUPPORTED_FILTER")
    if len(data) > cap:
        raise PdfCredentialError(f"the embedded credential is larger than {cap} bytes", code="PDF_ATTACHMENT_TOO_LARGE")
    return data


def _embedded_files(node: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """(name, file specification) pairs of an EmbeddedFiles name tree (ISO 32000-1 §7.9.6), depth-bounded."""
    if depth > 8 or node is None:
        return []
    node = node.get_object()
    out: list[tuple[str, Any]] = []
    names = node.get("/Names")
    if names is not None:
        names = names.get_object()
        for i in range(0, min(len(names), 200) - 1, 2):
            out.append((str(names[i]), names[i + 1].get_object()))
    for kid in (node.get("/Kids") or [])[:50]:
        out.extend(_embedded_files(kid, depth + 1))
    return out


def extract_credential_from_pdf(data: bytes, *, max_bytes: int = MAX_CREDENTIAL_BYTES) -> str:
    """The signed credential embedded in a PDF (as text: JSON or a compact JWS), or ``PdfCredentialError``."""
    if not isinstance(data, bytes | bytearray) or not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise PdfCredentialError("not a PDF file", code="PDF_INVALID")
    if len(data) > MAX_PDF_BYTES:
        raise PdfCredentialError(f"PDF larger than {MAX_PDF_BYTES} bytes", code="PDF_TOO_LARGE")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(bytes(data)), strict=False)
        root = reader.trailer["/Root"].get_object()
        tree = root.get("/Names", {}).get_object().get("/EmbeddedFiles") if root.get("/Names") else None
        files = _embedded_files(tree)
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise PdfCredentialError(f"the PDF could not be read: {type(exc).__name__}", code="PDF_INVALID") from None
    candidates = sorted(files, key=lambda f: (f[0] not in ATTACHMENT_NAMES, f[0]))
    for name, spec in candidates:
        if not (name.endswith(".json") or name.endswith(".jwt") or name in ATTACHMENT_NAMES):
            continue
        try:
            stream = spec["/EF"].get_object().get("/F").get_object()
            body = _stream_bytes(stream, max_bytes)
            return body.decode("utf-8")
        except PdfCredentialError:
            raise
        except (KeyError, AttributeError, UnicodeDecodeError, PyPdfError, TypeError) as exc:
            raise PdfCredentialError(f"the attachment {name[:60]} could not be read: {type(exc).__name__}", code="PDF_INVALID") from None
    raise PdfCredentialError("the PDF carries no embedded credential (credential.json or credential.jwt)")


# -- writing -------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "label" in value or "title" in value or "name" in value:
            return _text(value.get("label") or value.get("title") or value.get("name"))
        return " / ".join(f"{v}" if len(value) == 1 else f"[{k}] {v}" for k, v in value.items() if isinstance(v, str | int | float))
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


#: the CLDR locale of each page language's dates: English as written in the EU ("30 June 2026"), not the US default
CLDR_LOCALES = {"en": "en_IE", "fr": "fr_FR", "de": "de_DE"}


def date_in_words(value: Any, lang: str = "en", *, with_time: bool = False) -> str | None:
    """An ISO 8601 date or date-time (or a ``date``) in words, as a certificate writes it, in ``lang`` (CLDR long
    date format through Babel): "30 June 2026", "30 juin 2026", "30. Juni 2026"; with ``with_time``, ", 14:05 UTC".
    The one formatter of dates in words: the PDF, the verify page and the wallet's pages all use it."""
    from datetime import UTC, date, datetime

    from babel import Locale
    from babel.dates import format_date

    if isinstance(value, str):
        if len(value) > 40:
            return None
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, date):
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = format_date(value.date() if isinstance(value, datetime) else value, "long", locale=Locale.parse(CLDR_LOCALES.get(lang, lang)))
    if with_time and isinstance(value, datetime):
        text += f", {value:%H:%M} UTC"
    return text


def render_pdf(
    *,
    facts: list[tuple[str, Any]],
    title: str,
    credential: bytes,
    media_type: str,
    verify_url: str | None,
    institution: str = "",
    learner: str = "",
    awarded: str | None = None,
    qr_until: str | None = None,
    issuer_id: str | None = None,
    credential_id: str | None = None,
    gettext: Callable[[str], str] | None = None,
    logo: bytes | None = None,
) -> bytes:
    """A one-credential document laid out like a certificate, a QR code to ``verify_url``, the credential attached.

    The institution's name heads the page; then the learner, the title and the date in words; the EU elements
    (Annex I) as a two-column table, left-aligned (never justified); and what the QR code leads to and until
    when. Nothing on paper claims a verification result: the code checks the credential when it is scanned.
    Technical identifiers (the issuer's DID, the credential id) are in small print at the foot. The words are
    translated by ``gettext`` (the page's language); ``facts``' labels are FACT_LABELS, translated here.
    """
    from fpdf import FPDF

    _ = gettext or _same

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(title[:200])
    pdf.set_creator("microcred wallet")
    if (_FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("body", "", str(_FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        family, clean = "body", (lambda s: s)
    else:  # core font: Latin-1 only
        family, clean = "helvetica", (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.add_page()
    width = pdf.epw
    ink, muted, accent = (29, 36, 48), (91, 102, 119), (31, 79, 180)

    # The frame of a certificate, and its heading: the institution, then what it certifies.
    pdf.set_draw_color(*accent)
    pdf.set_line_width(0.8)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    if logo:  # the institution's logo the credential carries (checked PNG/JPEG/WebP bytes of a data: URI)
        try:
            pdf.image(io.BytesIO(logo), x="C", h=18, alt_text=institution[:200] or None)  # flowing: moves y below it
            pdf.ln(3)
        except Exception:  # an image fpdf2 cannot read is left out, never a failed download
            pass
    pdf.set_text_color(*accent)
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(width, 8, clean(institution or "—"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_text_color(*muted)
    pdf.set_font(family, "", 11)
    pdf.multi_cell(width, 6, clean(_("certifies that")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(*ink)
    pdf.set_font(family, "B", 20)
    pdf.multi_cell(width, 10, clean(learner or "—"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(*muted)
    pdf.set_font(family, "", 11)
    pdf.multi_cell(width, 6, clean(_("has been awarded the micro-credential")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(*ink)
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(width, 9, clean(title), align="C", new_x="LMARGIN", new_y="NEXT")
    if awarded:
        pdf.ln(2)
        pdf.set_text_color(*muted)
        pdf.set_font(family, "", 11)
        pdf.multi_cell(width, 6, clean(_("on %(date)s") % {"date": awarded}), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    # The EU elements: label | value, left-aligned.
    label_w = 52
    for label, value in facts:
        if value in (None, "", [], {}):
            continue
        lines = value if isinstance(value, list) else [value]
        text = "\n".join(("• " if len(lines) > 1 else "") + _text(line) for line in lines)
        y = pdf.get_y()
        pdf.set_text_color(*muted)
        pdf.set_font(family, "B", 9.5)
        pdf.multi_cell(label_w, 5, clean(_(label)), align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(*ink)
        pdf.set_font(family, "", 10)
        pdf.set_xy(pdf.l_margin + label_w, y)
        pdf.multi_cell(width - label_w, 5, clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(217, 222, 231)
        pdf.set_line_width(0.2)
        pdf.ln(1)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(1.5)

    attached = f"credential.{'jwt' if media_type.endswith('jwt') else 'json'}"
    if verify_url is None:  # the learner chose no QR code: only the attached credential
        pdf.ln(3)
        pdf.set_text_color(*ink)
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(width, 5, clean(_("Check this credential")), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        pdf.multi_cell(
            width,
            4.5,
            clean(
                _("The signed credential is attached to this PDF (%(file)s); any verifier reads it from the file. This PDF has no QR code.")
                % {"file": attached}
            ),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    else:
        _qr_block(pdf, family, clean, verify_url, qr_until, attached, width, ink, _)

    # Technical identifiers, in small print.
    small = [
        _("Issuer: %(id)s") % {"id": issuer_id} if issuer_id else "",
        _("Credential: %(id)s") % {"id": credential_id} if credential_id else "",
        _("Link: %(url)s") % {"url": verify_url} if verify_url else "",
    ]
    pdf.ln(2)
    pdf.set_text_color(*muted)
    pdf.set_font(family, "", 7)
    for line in small:
        if line:
            pdf.multi_cell(width, 3.5, clean(line), align="L", new_x="LMARGIN", new_y="NEXT")

    name = "credential.jwt" if media_type.endswith("jwt") else "credential.json"
    pdf.embed_file(bytes=credential, basename=name, mime_type=media_type.split(";")[0], desc="The signed verifiable credential", compress=True)
    return bytes(pdf.output())


def _qr_block(pdf, family: str, clean, verify_url: str, qr_until: str | None, attached: str, width: float, ink, _=_same) -> None:
    """What the QR code leads to, and until when."""
    import segno

    qr = segno.make(verify_url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=6, border=2)
    png.seek(0)
    if pdf.get_y() + 44 > pdf.h - 18:
        pdf.add_page()
    top = pdf.get_y() + 3
    pdf.image(png, x=pdf.l_margin, y=top, w=36, h=36)
    pdf.set_xy(pdf.l_margin + 40, top + 2)
    pdf.set_text_color(*ink)
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(width - 40, 5, clean(_("Check this credential")), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 40)
    pdf.set_font(family, "", 9)
    works = _("The code works until %(until)s; after that, ask the learner for the credential file or a new link.")
    until = " " + works % {"until": qr_until} if qr_until else ""
    pdf.multi_cell(
        width - 40,
        4.5,
        clean(
            _(
                "Scan the code: it opens a page of the learner's wallet that checks the signature, the validity dates and whether "
                "the credential has been revoked at the moment it is opened."
            )
            + until
            + " "
            + _("The signed credential itself is attached to this PDF (%(file)s); any verifier reads it from the file.") % {"file": attached}
        ),
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(max(pdf.get_y(), top + 38))
