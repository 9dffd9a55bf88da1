"""The benchmark's reference credential: the EU example micro-credential as a VC 2.0 Open Badge.

Built by hand here (not by the renderer) so that the signing figures measure the proof pipeline alone
and stay comparable across changes to the renderers. ``outcomes`` scales the learning outcomes.
"""

from __future__ import annotations

from typing import Any

ESCO = ["ccdf3597-5c80-410f-896d-e1bdfa223de9", "5fd5c985-eaaa-47aa-8314-62359c54505a"]


def reference_credential(issuer: str, outcomes: int = 2) -> dict[str, Any]:
    alignments: list[dict[str, Any]] = [
        {
            "type": ["Alignment"],
            "targetName": f"Learning outcome {i + 1}: {'Communication, collaboration and creativity' if i % 2 == 0 else 'Developing digital content'}",
            "targetUrl": f"http://data.europa.eu/esco/skill/{ESCO[i % 2]}",
            "targetFramework": "ESCO",
            "targetType": "ext:ESCOSkill",
        }
        for i in range(outcomes)
    ]
    alignments += [
        {
            "type": ["Alignment"],
            "targetName": "EQF level 6",
            "targetUrl": "http://data.europa.eu/snb/eqf/6",
            "targetCode": "6",
            "targetFramework": "European Qualifications Framework",
            "targetType": "ext:EQFLevel",
        },
        {
            "type": ["Alignment"],
            "targetName": "Artefact assessment",
            "targetUrl": "http://data.europa.eu/snb/assessment/de4d165a6c",
            "targetFramework": "EU assessment types",
            "targetType": "ext:AssessmentType",
        },
        {
            "type": ["Alignment"],
            "targetName": "Blended",
            "targetUrl": "http://data.europa.eu/snb/learning-assessment/e92d221e4d",
            "targetFramework": "EU learning modes",
            "targetType": "ext:FormOfParticipation",
        },
        {
            "type": ["Alignment"],
            "targetName": "Institutional review 2024",
            "targetDescription": "institutional-quality-assurance by Quality and Qualifications Ireland (IE)",
            "targetUrl": "https://www.eqar.eu/qa-results/",
            "targetType": "ext:QualityAssurance",
        },
    ]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:0b8f2c8e-6f7c-4d8a-9a3e-1c2d3e4f5a6b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Digital micro-credential creation",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "University of Zed", "address": {"type": ["Address"], "addressCountryCode": "IE"}},
        "validFrom": "2026-06-30T10:00:00Z",
        "credentialSubject": {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Ana Andromeda"}],
            "creditsEarned": 2.0,
            "activityStartDate": "2026-05-05T07:00:00Z",
            "activityEndDate": "2026-06-06T15:00:00Z",
            "achievement": {
                "id": "urn:uuid:5a1f4c2e-0d3b-4e6f-8a9b-7c6d5e4f3a2b",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Digital micro-credential creation",
                "description": "Short learning programme on creating ELM-compliant digital micro-credentials.",
                "criteria": {"narrative": "- Communication, collaboration and creativity\n- Developing digital content"},
                "creditsAvailable": 2.0,
                "fieldOfStudy": "Inter-disciplinary programmes involving ICT",
                "inLanguage": "en",
                "creator": {
                    "id": "https://uniz.example.edu",
                    "type": ["Profile"],
                    "name": "University of Zed",
                    "url": "https://uniz.example.edu",
                    "address": {"type": ["Address"], "addressCountryCode": "IE", "addressRegion": "IRL_CTH_DUB"},
                },
                "alignment": alignments,
            },
        },
    }
