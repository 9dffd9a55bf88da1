"""The elements of a micro-credential named by Council Recommendation 2022/C 243/02, Annex I.

Used to label validation errors (which element a bad field belongs to) and by the completeness reader.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnnexElement:
    key: str
    label: str
    mandatory: bool


LEARNER = AnnexElement("learner", "1. identification of the learner", True)
TITLE = AnnexElement("title", "2. title", True)
COUNTRY = AnnexElement("country", "3. country or region of the issuer", True)
AWARDING_BODY = AnnexElement("awardingBody", "4. awarding body", True)
DATE_OF_ISSUING = AnnexElement("dateOfIssuing", "5. date of issuing", True)
LEARNING_OUTCOMES = AnnexElement("learningOutcomes", "6. learning outcomes", True)
WORKLOAD = AnnexElement("workload", "7. notional workload", True)
LEVEL = AnnexElement("level", "8. level", True)
ASSESSMENT = AnnexElement("assessment", "9. type of assessment", True)
PARTICIPATION = AnnexElement("participation", "10. form of participation", True)
QUALITY_ASSURANCE = AnnexElement("qualityAssurance", "11. type of quality assurance", True)
PREREQUISITES = AnnexElement("prerequisites", "optional: prerequisites", False)
SUPERVISION = AnnexElement("supervision", "optional: supervision and identity verification", False)
GRADE = AnnexElement("grade", "optional: grade achieved", False)
STACKABILITY = AnnexElement("stackability", "optional: integration/stackability options", False)
FURTHER_INFORMATION = AnnexElement("furtherInformation", "optional: further information", False)

MANDATORY = (LEARNER, TITLE, COUNTRY, AWARDING_BODY, DATE_OF_ISSUING, LEARNING_OUTCOMES, WORKLOAD, LEVEL, ASSESSMENT, PARTICIPATION, QUALITY_ASSURANCE)
OPTIONAL = (PREREQUISITES, SUPERVISION, GRADE, STACKABILITY, FURTHER_INFORMATION)
ALL = MANDATORY + OPTIONAL

# first pointer segment (and, for two of them, the second) → element; model doc §2 "Annex I" column
_BY_FIELD = {
    "learner": LEARNER,
    "title": TITLE,
    "awardingBodies": AWARDING_BODY,
    "awardedAt": DATE_OF_ISSUING,
    "learningOutcomes": LEARNING_OUTCOMES,
    "learningOutcomeSummary": LEARNING_OUTCOMES,
    "workload": WORKLOAD,
    "level": LEVEL,
    "assessment": ASSESSMENT,
    "participation": PARTICIPATION,
    "qualityAssurance": QUALITY_ASSURANCE,
    "prerequisites": PREREQUISITES,
    "stackability": STACKABILITY,
    "composite": STACKABILITY,
    "furtherInformation": FURTHER_INFORMATION,
    "links": FURTHER_INFORMATION,
}


def element_for_pointer(pointer: str) -> str | None:
    """The Annex I element label a JSON pointer into the neutral input belongs to (None: not an element)."""
    parts = pointer.split("/")[1:]
    if not parts:
        return None
    if parts[0] == "awardingBodies" and len(parts) >= 3 and parts[2] in ("country", "region"):
        return COUNTRY.label
    if parts[0] == "assessment" and len(parts) >= 2:
        if parts[1] == "supervision":
            return SUPERVISION.label
        if parts[1] == "grade":
            return GRADE.label
    element = _BY_FIELD.get(parts[0])
    return element.label if element else None
