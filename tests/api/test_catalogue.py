"""Specifications, issuing against one, and the public catalogue (JSON and page)."""

from __future__ import annotations

import copy

import httpx

from app.credentials import eu_completeness, mandatory_score, specification_of


def test_publish_issue_against_and_filter(live, client, example_input):
    spec = specification_of(example_input)
    r = client.post("/specifications", json={"specification": spec, "published": True})
    assert r.status_code == 201, r.text
    spec_id = r.json()["id"]
    draft = copy.deepcopy(spec)
    draft["title"] = {"en": "Unpublished draft"}
    draft["level"] = {"eqf": 4}
    assert client.post("/specifications", json={"specification": draft, "published": False}).status_code == 201

    issuance = {"learner": example_input["learner"], "awardedAt": example_input["awardedAt"], "assessment": {"grade": {"value": "Pass"}}}
    r = client.post("/microcredentials", json={"format": "edc", "specificationId": spec_id, "issuance": issuance})
    assert r.status_code == 201, r.text
    report = live.app.state.runtime.verifier.verify(r.content.decode())
    assert report.verified, report.as_dict()
    assert mandatory_score(eu_completeness(report.credential)) == (11, 11)

    public = httpx.get(f"{live.url}/catalogue").json()["items"]
    assert [i["id"] for i in public] == [spec_id]  # the draft is not public
    assert public[0]["provider"]["slug"] == "uniz" and public[0]["eqf"] == 6 and public[0]["ects"] == 2
    for params, expected in [
        ({"eqf": 6}, 1),
        ({"eqf": 5}, 0),
        ({"country": "IE"}, 1),
        ({"country": "DE"}, 0),
        ({"isced": "06"}, 1),
        ({"isced": "0688"}, 1),
        ({"isced": "07"}, 0),
        ({"ectsMin": 1, "ectsMax": 3}, 1),
        ({"ectsMin": 3}, 0),
        ({"provider": "uniz"}, 1),
        ({"provider": "nobody"}, 0),
    ]:
        assert len(httpx.get(f"{live.url}/catalogue", params=params).json()["items"]) == expected, params
    page = httpx.get(f"{live.url}/catalogue.html", params={"eqf": "6"})
    assert page.status_code == 200 and "Digital micro-credential creation" in page.text
    assert httpx.get(f"{live.url}/catalogue/{spec_id}").status_code == 200

    # Withdrawn from the catalogue: gone from the public list.
    assert client.post(f"/specifications/{spec_id}/publish", json={"published": False}).json()["published"] is False
    assert httpx.get(f"{live.url}/catalogue").json()["items"] == []
    assert httpx.get(f"{live.url}/catalogue/{spec_id}").status_code == 404


def test_issuance_may_not_change_the_offering(client, example_input):
    spec_id = client.post("/specifications", json={"specification": specification_of(example_input)}).json()["id"]
    issuance = {"learner": example_input["learner"], "title": {"en": "Something else"}, "workload": {"ects": 30}}
    r = client.post("/microcredentials", json={"specificationId": spec_id, "issuance": issuance})
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"/issuance/title", "/issuance/workload"} <= pointers or {"/title", "/workload"} <= pointers


def test_invalid_specification_lists_fields(client, example_input):
    spec = specification_of(example_input)
    spec["level"] = {"eqf": 9}
    r = client.post("/specifications", json={"specification": spec})
    assert r.status_code == 422 and any(e["pointer"] == "/level/eqf" for e in r.json()["errors"])


LEARNER_FIELDS = [
    "/externalId",
    "/learner",
    "/awardedAt",
    "/furtherInformation",
    "/assessment/date",
    "/assessment/grade/value",
    "/assessment/grade/status",
    "/participation/startDate",
    "/participation/endDate",
]


def test_the_eu_example_record_is_accepted_as_a_specification(live, client, example_input):
    """Issue 14: the EU example record, sent as it is, was refused with nine "unknown field" errors. It is the
    offering plus per-learner data: the offering is published, the per-learner fields are named as ignored and
    never reach the public catalogue."""
    r = client.post("/specifications", json={"specification": example_input, "published": True})
    assert r.status_code == 201, r.text
    body = r.json()
    assert sorted(body["ignoredFields"]) == sorted(LEARNER_FIELDS)
    public = httpx.get(f"{live.url}/catalogue/{body['id']}")
    assert public.status_code == 200
    assert "learner" not in public.json()["specification"] and example_input["learner"]["id"] not in public.text
    assert example_input["awardedAt"] not in public.text
    # A clean specification has nothing to ignore.
    again = client.post("/specifications", json={"specification": specification_of(example_input)})
    assert again.status_code == 201 and again.json()["ignoredFields"] == []
    assert again.json()["specification"] == body["specification"]  # the same offering, either way


def test_the_demo_provider_publishes_the_example_specification_on_first_start(tmp_path, database_url):
    """In development, ``serve`` creates the demo provider and publishes the EU example, once: the catalogue does not
    start empty (and a second start publishes nothing more)."""
    from tests.live_process import LiveService

    env = {"MICROCRED_DEMO_PROVIDER": "true", "MICROCRED_ENVIRONMENT": "development", "MICROCRED_DATABASE_URL": database_url}
    for start in (1, 2):
        with LiveService(tmp_path, env=env) as svc:
            items = httpx.get(f"{svc.url}/catalogue", timeout=60).json()["items"]
            assert [(i["title"]["en"], i["provider"]["slug"]) for i in items] == [("Digital micro-credential creation", "demo")], start
            page = httpx.get(f"{svc.url}/catalogue/{items[0]['id']}/page", timeout=60)
            assert page.status_code == 200 and "Digital micro-credential creation" in page.text
