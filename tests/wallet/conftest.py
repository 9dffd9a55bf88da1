"""A live service with a provider, and learners signed in to the wallet through real HTTP (httpx)."""

from __future__ import annotations

import copy
import re

import httpx
import pytest

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def api(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:
        yield c


def learner_input(example_input, email: str) -> dict:
    """The EU example issued to ``email`` (its learner DID removed, so the e-mail is the learner reference)."""
    data = copy.deepcopy(example_input)
    data["learner"].pop("id", None)
    data["learner"]["email"] = email
    return data


def issue(api, example_input, email: str, proof: str = "eddsa-rdfc-2022") -> str:
    r = api.post("/microcredentials", json={"format": "ob3", "proof": proof, "microcredential": learner_input(example_input, email)})
    assert r.status_code == 201, r.text
    return r.headers["location"].removeprefix("/credentials/")


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, html[:500]
    return m.group(1)


class Learner:
    """A browser-like client (cookies kept) signed in as one learner."""

    def __init__(self, live, email: str):
        self.live = live
        self.email = email
        self.http = httpx.Client(base_url=live.url, timeout=60, follow_redirects=False)
        page = self.http.get("/wallet/signin")
        r = self.http.post("/wallet/signin", data={"email": email, "csrf": csrf_of(page.text)})
        assert r.status_code == 200, r.text
        link = [url for (to, url) in live.app.state.wallet.outbox if to == email][-1]
        confirm = self.http.get(link.removeprefix(live.url))
        r = self.http.post("/wallet/signin-confirm", data={"link": link.rsplit("/", 1)[-1], "csrf": csrf_of(confirm.text)})
        assert r.status_code == 303 and r.headers["location"] == "/wallet", r.text
        self.csrf = csrf_of(self.http.get("/wallet").text)

    def post(self, path: str, data: dict | None = None, **kw):
        return self.http.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)

    def learner(self):
        wallet = self.live.app.state.wallet
        with wallet.db.read() as session:
            from app.store import wallet as store

            return store.find_learner_by_email(session, self.email)

    def close(self):
        self.http.close()


@pytest.fixture
def ana(live):
    learner = Learner(live, "ana@example.org")
    yield learner
    learner.close()


@pytest.fixture
def ben(live):
    learner = Learner(live, "ben@example.org")
    yield learner
    learner.close()
