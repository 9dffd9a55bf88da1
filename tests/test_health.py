from fastapi.testclient import TestClient

from app.main import create_app


def test_health_answers_ok():
    client = TestClient(create_app())
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_unknown_path_is_problem_json():
    client = TestClient(create_app())
    r = client.get("/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "NOT_FOUND" and body["status"] == 404 and "type" in body
