"""EU micro-credentials: the neutral input record, its validation, and its two renderings.

* ``validate_input`` / ``MicroCredentialInput``: the record of model doc §2 with the §6 rules; errors
  name every failing field (JSON pointer) and its Council Recommendation Annex I element.
* ``validate_specification`` / ``issue_from_specification``: an offering published once, issued per learner.
* ``render_edc``: Europass EDC (European Learning Model 3.2 JSON-LD, VC 1.1 base), unsigned.
* ``render_ob3``: Open Badges 3.0 (VC 2.0), unsigned, EU elements as alignments to EU concept IRIs.
* ``RENDERERS`` / ``FORMATS``: the renderings by the name a request gives them.
* ``eu_completeness`` / ``summary``: read any EDC or OB3 credential back against Annex I.

Domain code only: no HTTP, no SQL. The issuer API validates, renders, then signs.
"""

from app.credentials.completeness import ElementResult, credential_format, eu_completeness, mandatory_score, summary
from app.credentials.edc import render_edc
from app.credentials.model import (
    MicroCredentialInput,
    MicroCredentialSpecification,
    issuance_pointers,
    issue_from_specification,
    merge_specification,
    specification_of,
    validate_input,
    validate_specification,
    warnings,
)
from app.credentials.open_badges import render_ob3
from app.credentials.profile import IssuerProfile

#: The renderings of the neutral record, by the ``format`` a request names: each takes the validated
#: record and ``issuer``, ``credential_id``, ``issued``, ``status_entry`` and returns the unsigned credential.
RENDERERS = {"ob3": render_ob3, "edc": render_edc}
#: The formats a provider can ask for (``format`` of POST /microcredentials and of a batch).
FORMATS = tuple(RENDERERS)

__all__ = [
    "FORMATS",
    "RENDERERS",
    "ElementResult",
    "IssuerProfile",
    "MicroCredentialInput",
    "MicroCredentialSpecification",
    "credential_format",
    "eu_completeness",
    "issuance_pointers",
    "issue_from_specification",
    "mandatory_score",
    "merge_specification",
    "render_edc",
    "render_ob3",
    "specification_of",
    "summary",
    "validate_input",
    "validate_specification",
    "warnings",
]
