"""The small set of typed exceptions the domain raises; one API handler maps them to RFC 9457 problem+json.

Codes reuse the standards' error names where one fits (VC Data Model §7.1, Data Integrity §2.3,
Bitstring Status List §3.2); the others are short, stable, machine-readable names of our own.
"""

from __future__ import annotations


class MicrocredError(Exception):
    """Base class: ``code`` is machine-readable, ``status`` the HTTP status an API answers with."""

    code = "MICROCRED_ERROR"
    status = 400
    title = "Request refused"
    #: HTTP header fields the answer carries (e.g. ``Connection: close`` for a body left unread)
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, code: str | None = None, errors: list[dict] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or []


class ParsingError(MicrocredError):
    """Input that is not well-formed JSON / I-JSON (VC Data Model: PARSING_ERROR)."""

    code = "PARSING_ERROR"
    title = "Malformed JSON"


class PayloadTooLargeError(MicrocredError):
    """A request body over its limit (RFC 9110 §15.5.14, 413 Content Too Large). The rest of the body is
    not read, so the connection cannot carry another request: the answer closes it (RFC 9112 §9.6)."""

    code = "TOO_LARGE"
    status = 413
    title = "Request body too large"
    headers = {"Connection": "close"}


class MalformedValueError(MicrocredError):
    """A value of the wrong form (VC Data Model: MALFORMED_VALUE_ERROR)."""

    code = "MALFORMED_VALUE_ERROR"
    title = "Malformed value"


class RangeError(MicrocredError):
    """A value out of its allowed range (VC Data Model: RANGE_ERROR)."""

    code = "RANGE_ERROR"
    title = "Value out of range"


class DataLossError(MicrocredError):
    """JSON-LD processing would drop or rewrite data (Data Integrity: DATA_LOSS_DETECTION_ERROR)."""

    code = "DATA_LOSS_DETECTION_ERROR"
    status = 422
    title = "Data would be lost in JSON-LD processing"


class ContextError(MicrocredError):
    """A JSON-LD context that is not in the pinned set, or is malformed."""

    code = "CONTEXT_NOT_ALLOWED"
    status = 422
    title = "JSON-LD context refused"


class CanonicalizationLimitError(MicrocredError):
    """RDFC-1.0 §4.4 (Hash N-Degree Quads) exceeded its work budget: a poison graph."""

    code = "CANONICALIZATION_LIMIT_EXCEEDED"
    status = 422
    title = "Graph too complex to canonicalize"


class CryptoError(MicrocredError):
    """Key or signature material that is malformed (VC Data Model: CRYPTOGRAPHIC_SECURITY_ERROR)."""

    code = "CRYPTOGRAPHIC_SECURITY_ERROR"
    title = "Cryptographic material refused"


class ProofError(MicrocredError):
    """A proof that cannot be created or checked (Data Integrity: PROOF_GENERATION_ERROR and kin)."""

    code = "PROOF_GENERATION_ERROR"
    status = 422
    title = "Proof refused"


class StatusError(MicrocredError):
    """A status list or status entry that cannot be read (Bitstring Status List §3.2, Token Status List §8.3)."""

    code = "STATUS_VERIFICATION_ERROR"
    status = 422
    title = "Status could not be determined"


class DidResolutionError(MicrocredError):
    """A DID that cannot be resolved (DID Resolution: invalidDid / notFound)."""

    code = "INVALID_VERIFICATION_METHOD"
    status = 422
    title = "DID could not be resolved"


class FetchError(MicrocredError):
    """An outbound fetch refused by the guarded fetcher or failed."""

    code = "FETCH_REFUSED"
    status = 422
    title = "Remote document could not be fetched"


class UnsupportedMediaType(MicrocredError):
    """A body sent as a media type the operation does not take (HTTP 415, RFC 9110 §15.5.16)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    title = "Unsupported media type"


class KeyUnavailable(MicrocredError):
    """A signing key of this service that cannot be used (missing, unreadable, readable by others, or not the
    key its DID document publishes): the operator's fault, never the client's, so a 503 that names no path."""

    code = "SIGNING_KEY_UNAVAILABLE"
    status = 503
    title = "Signing key unavailable"


class NotFoundError(MicrocredError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"


class ConflictError(MicrocredError):
    code = "CONFLICT"
    status = 409
    title = "Conflict"


class AuthError(MicrocredError):
    code = "UNAUTHORIZED"
    status = 401
    title = "Missing or invalid credentials"
