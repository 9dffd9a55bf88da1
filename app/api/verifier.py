"""The verifier API (W3C VC API §3.3 Verifying, §3.5 Challenges): thin; the work is in ``app.verification``.

Status codes (security-notes "The response contract", VC API test suites): 200 with the report when the
credential verified; 422 with the same report (``verified: false``) when a well-formed credential fails;
400 problem+json when the input is not a credential at all. Verification is CPU work (canonicalization)
and may fetch DID documents and status lists, so it runs in the thread pool, off the event loop.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app import strict_json
from app.api.deps import JsonBody, SettingsDep, VerificationDep, read_body, read_json
from app.api.problems import problem_responses
from app.errors import MalformedValueError, ParsingError, PayloadTooLargeError, UnsupportedMediaType
from app.holder import extract_credential_from_pdf
from app.verification.report import Report
from app.verification.service import public_report

router = APIRouter(tags=["verifier"], responses=problem_responses(400, 413, 415, 422))

REPORT = {
    "type": "object",
    "required": ["verified", "checks"],
    "properties": {
        "verified": {"type": "boolean"},
        "verdict": {"type": "string"},
        "checks": {"type": "array"},
        "errors": {"type": "array"},
        "warnings": {"type": "array"},
    },
}
_REPORT_RESPONSES = {
    200: {"description": "verified: the report", "content": {"application/json": {"schema": REPORT}}},
    422: {
        "description": "a well-formed credential that failed: the same report (verified: false); or a problem",
        "content": {"application/json": {"schema": REPORT}, "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


def _body_doc(schema: dict, media: str = "application/json") -> dict:
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


#: VC API verify options: ``checks: ["proof"]`` checks the proofs alone (the report says so); ``nonce`` and
#: ``aud`` are what an SD-JWT VC's Key Binding JWT must carry.
_OPTIONS = {
    "type": "object",
    "properties": {
        "checks": {"type": "array", "items": {"type": "string"}},
        "nonce": {"type": "string", "description": "SD-JWT VC: the nonce its Key Binding JWT must carry (then required)"},
        "aud": {"type": "string", "description": "SD-JWT VC: the audience its Key Binding JWT must name (then required)"},
    },
}

UPLOAD_SUFFIXES = (".json", ".jsonld", ".jwt", ".sd-jwt", ".txt", ".pdf")


def _report_response(report: Report) -> Response:
    return Response(strict_json.dumps(public_report(report)).encode(), status_code=200 if report.verified else 422, media_type="application/json")


def _object_body(body: Any, required: str) -> dict[str, Any]:
    if not isinstance(body, dict) or required not in body:
        raise MalformedValueError(f'the body is {{"{required}": …, "options": {{…}}}}', errors=[{"pointer": f"/{required}", "detail": "required"}])
    if not isinstance(body.get("options", {}), dict):
        raise MalformedValueError("options must be an object", errors=[{"pointer": "/options", "detail": "object"}])
    return body


async def form_body(request: Request, *, max_file_bytes: int) -> dict[str, Any]:
    """A multipart/form-data body, size-capped before parsing: ``{field: str | UploadFile}``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise UnsupportedMediaType(f"send multipart/form-data, not {media or 'nothing'}")
    raw = await read_body(request, max_file_bytes + 64 * 1024)  # the file plus the other fields and the boundaries

    async def stream():
        yield raw

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=8, max_part_size=max_file_bytes).parse()
    except MultiPartException as exc:
        raise ParsingError(f"malformed multipart body: {exc.message}") from None
    return dict(form.items())


async def uploaded_text(upload: UploadFile, max_bytes: int) -> bytes:
    name = upload.filename or ""
    if PurePath(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise UnsupportedMediaType(f"upload a {', '.join(UPLOAD_SUFFIXES)} file", code="UNSUPPORTED_FILE_TYPE")
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise PayloadTooLargeError(f"the file is larger than {max_bytes} bytes")
    if content.startswith(b"%PDF-"):
        # The wallet's PDF carries the signed credential as an embedded file (app/holder/pdf.py).
        return (await run_in_threadpool(extract_credential_from_pdf, content)).encode()
    return content


@router.post(
    "/credentials/verify",
    summary="Verify a credential (W3C VC API verifyCredential)",
    responses=_REPORT_RESPONSES,
    openapi_extra=_body_doc(
        {
            "type": "object",
            "required": ["verifiableCredential"],
            "properties": {
                "verifiableCredential": {"oneOf": [{"type": "object"}, {"type": "string"}], "description": "a credential, a vc+jwt or an SD-JWT VC"},
                "options": _OPTIONS,
            },
        }
    ),
)
async def verify_credential(body: JsonBody, verification: VerificationDep) -> Response:
    body = _object_body(body, "verifiableCredential")
    report = await run_in_threadpool(verification.verify_credential, body["verifiableCredential"], body.get("options"))
    return _report_response(report)


@router.post(
    "/presentations/verify",
    summary="Verify a presentation and its credentials (W3C VC API verifyPresentation)",
    responses=_REPORT_RESPONSES,
    openapi_extra=_body_doc(
        {
            "type": "object",
            "required": ["verifiablePresentation", "options"],
            "properties": {
                "verifiablePresentation": {"type": "object"},
                "options": {**_OPTIONS, "properties": {**_OPTIONS["properties"], "challenge": {"type": "string"}, "domain": {"type": "string"}}},
            },
        }
    ),
)
async def verify_presentation(body: JsonBody, verification: VerificationDep) -> Response:
    body = _object_body(body, "verifiablePresentation")
    report = await run_in_threadpool(verification.verify_presentation, body["verifiablePresentation"], body.get("options"))
    return _report_response(report)


@router.post("/challenges", summary="A single-use challenge for a presentation (W3C VC API createChallenge)")
async def create_challenge(request: Request, verification: VerificationDep) -> Response:
    domain = None
    if request.headers.get("content-length", "0") != "0" or request.headers.get("transfer-encoding"):
        body = await read_json(request, request.app.state.settings)
        if not isinstance(body, dict):
            raise MalformedValueError('the body, if any, is {"domain": …}')
        domain = body.get("domain")
    out = await run_in_threadpool(verification.new_challenge, domain)
    return Response(strict_json.dumps(out).encode(), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(
    "/verify/upload",
    summary="Verify an uploaded credential file (.json, .jsonld, .jwt, .sd-jwt, .txt, or the wallet's .pdf)",
    responses=_REPORT_RESPONSES,
    openapi_extra=_body_doc({"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}, "multipart/form-data"),
)
async def verify_upload(request: Request, settings: SettingsDep, verification: VerificationDep) -> Response:
    limit = settings.verify_upload_max_bytes
    form = await form_body(request, max_file_bytes=limit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise MalformedValueError("the form needs a file field", errors=[{"pointer": "/file", "detail": "required file"}])
    content = await uploaded_text(upload, limit)
    report = await run_in_threadpool(verification.verify_file, content)
    return _report_response(report)
