"""bench/w3c_suites.py, the script that runs the five W3C/CCG suites (issue 11), on what it decides by itself:
the package.json rewrite, the layout check, the positive/negative split and the summary. Running the suites
needs their code in a folder outside the repository (README, implementation report); not done here."""

from __future__ import annotations

import re
import subprocess
import sys

from bench import w3c_suites
from tests.conftest import ROOT


def _report(passes=(), failures=(), pending=()) -> dict:
    return {
        "stats": {"passes": len(passes), "failures": len(failures), "pending": len(pending), "tests": len(passes) + len(failures) + len(pending)},
        "passes": [{"fullTitle": t} for t in passes],
        "failures": [{"fullTitle": t, "err": {"message": f"why {t}"}} for t in failures],
        "pending": [{"fullTitle": t} for t in pending],
    }


def test_package_json_points_at_the_tarballs_and_drops_lint(tmp_path):
    package = {
        "dependencies": {"vc-test-suite-implementations": "github:w3c/vc-test-suite-implementations", "chai": "^4"},
        "devDependencies": {
            "eslint": "^8",
            "eslint-config-x": "1",
            "allure-mocha": "2",
            "data-integrity-test-suite-assertion": "github:w3c-ccg/data-integrity-test-suite-assertion",
            "x": "github:someone/else",
        },
    }
    out, unknown = w3c_suites.point_at_packs(package, tmp_path)
    assert out["dependencies"] == {"vc-test-suite-implementations": f"file:{tmp_path}/vc-test-suite-implementations-2.0.0.tgz", "chai": "^4"}
    assert out["devDependencies"] == {
        "data-integrity-test-suite-assertion": f"file:{tmp_path}/data-integrity-test-suite-assertion-0.0.1.tgz",
        "x": "github:someone/else",
    }
    assert unknown == ["x github:someone/else"]
    assert package["dependencies"]["vc-test-suite-implementations"].startswith("github:")  # the input is left alone
    assert w3c_suites.point_at_packs(out, tmp_path)[0] == out  # a second --install changes nothing


def test_the_layout_check_names_what_is_missing_for_the_chosen_suites_only(tmp_path):
    (tmp_path / "vc-data-model-2.0-test-suite").mkdir()
    (tmp_path / "vc-data-model-2.0-test-suite" / "package.json").write_text("{}")
    problems = w3c_suites.layout_problems(tmp_path, ["vcdm"], installed=False)
    assert problems == [f"vcdm: dependency {tmp_path / 'deps' / 'w3c-impl'} is missing"]
    assert "node_modules is missing" in w3c_suites.layout_problems(tmp_path, ["vcdm"], installed=True)[0]
    (tmp_path / "deps" / "w3c-impl").mkdir(parents=True)
    (tmp_path / "deps" / "w3c-impl" / "package.json").write_text("{}")
    (tmp_path / "vc-data-model-2.0-test-suite" / "node_modules").mkdir()
    assert w3c_suites.layout_problems(tmp_path, ["vcdm"], installed=False) == []
    assert w3c_suites.layout_problems(tmp_path, ["vcdm"], installed=True) == []
    assert "eddsa: " in w3c_suites.layout_problems(tmp_path, ["vcdm", "eddsa"], installed=False)[0]


def test_positive_tests_are_those_no_do_nothing_server_passes():
    refuse = _report(passes=["must reject X"], failures=["must issue", '"before all" hook'])  # never reached "verify rejects Y"
    accept = _report(passes=["must issue", "verify rejects Y"], failures=["must reject X", "verify accepts Z"])
    negative = w3c_suites.negative_tests(refuse, accept)
    assert negative == {"must reject X", "verify rejects Y"}
    ours = _report(passes=["must reject X", "must issue", "verify rejects Y"], failures=["verify accepts Z"], pending=["optional"])
    s = w3c_suites.summarize(ours, 59, negative)
    assert (s["passed"], s["failed"], s["pending"], s["ran"], s["total"]) == (3, 1, 1, 5, 59)
    assert (s["positive_passed"], s["positive_ran"]) == (1, 2)
    assert s["failures"] == [{"test": "verify accepts Z", "kind": "positive", "error": "why verify accepts Z"}]
    assert w3c_suites.summarize(ours, 59)["failures"][0]["kind"] == "unknown"


def test_it_refuses_a_folder_inside_the_repository_an_unknown_suite_and_a_bad_layout(tmp_path, capsys):
    assert w3c_suites.main(["--suites", str(ROOT / "tests")]) == 2
    assert "outside the repository" in capsys.readouterr().err
    assert w3c_suites.main(["--suites", str(tmp_path), "--only", "vcdm,nope"]) == 2
    assert "unknown suite nope" in capsys.readouterr().err
    assert w3c_suites.main(["--suites", str(tmp_path), "--only", "bsl"]) == 2
    assert "bsl: " in capsys.readouterr().err
    assert not (tmp_path / "results").exists()  # nothing was started or written


def test_it_runs_as_a_module_and_through_the_bench_entry_point():
    for args in (["-m", "bench.w3c_suites", "--help"], ["-m", "bench", "w3c-suites", "--help"]):
        r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "--only" in r.stdout and "positive" in r.stdout, r.stderr


def test_the_config_names_one_implementation_with_every_tag_the_report_counts():
    config = w3c_suites.local_config("did:key:z6Mkx", "https://127.0.0.1:8443")
    for tag in ("vc2.0", "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc-api", "BitstringStatusList", "EnvelopingProof", "JWT"):
        assert f"'{tag}'" in config
    assert config.count("name: 'microcred'") == 1 and "did:key:z6Mkx" in config
    assert sorted(w3c_suites.SUITES) == ["bsl", "eddsa", "vc-api-issuer", "vc-api-verifier", "vcdm"]


def _judged(results: dict, negative: set[str], known) -> tuple[list[str], dict]:
    s = w3c_suites.summarize(results, 57, negative)
    return w3c_suites.judge("eddsa", results, s, known), s


def test_a_positive_failure_fails_the_run_unless_it_is_a_known_suite_defect():
    known = (w3c_suites.KnownDefect("eddsa", "suite bug", "the suite's loader", "repo@c f.js:1"),)
    negative = {"must reject X"}
    # an unknown positive failure fails the run; a negative one is listed but is not this check's business
    problems, s = _judged(_report(passes=["must issue"], failures=["suite bug", "verify Y", "must reject X"]), negative, known)
    assert problems == ["positive test fails: verify Y"]
    assert s["known_suite_defects"] == ["suite bug"] and s["problems"] == problems
    # a known one does not
    problems, s = _judged(_report(passes=["must issue", "must reject X"], failures=["suite bug"]), negative, known)
    assert problems == [] and s["known_suite_defects"] == ["suite bug"]
    # a known one that passes does: the table must be corrected
    problems, _ = _judged(_report(passes=["must issue", "suite bug", "must reject X"]), negative, known)
    assert problems == ["known failure now passes: remove it from the table (KNOWN_SUITE_DEFECTS): suite bug"]
    # and so does one that no longer runs (its title changed)
    problems, _ = _judged(_report(passes=["must issue", "must reject X"]), negative, known)
    assert problems == ["known failure did not run: suite bug"]
    # another suite's defects are not this one's
    assert w3c_suites.judge("vcdm", _report(passes=["suite bug"]), w3c_suites.summarize(_report(passes=["suite bug"]), 59, set()), known) == []


def test_the_real_table_matches_a_run_with_exactly_those_failures():
    """KNOWN_SUITE_DEFECTS as shipped: one entry per (suite, title), each with a defect and a source with a commit,
    and a run whose positive failures are exactly the table's passes; any one of them passing fails it."""
    table = w3c_suites.KNOWN_SUITE_DEFECTS
    assert len({(d.suite, d.title) for d in table}) == len(table)
    for d in table:
        assert d.suite in w3c_suites.SUITES and d.defect
        assert re.search(r"^[\w-]+/[\w.-]+@[0-9a-f]{40} ", d.source) and re.search(r"\.js(on)?:\d+", d.source)  # repo@commit file:line
    eddsa = [d.title for d in table if d.suite == "eddsa"]
    long = max(eddsa, key=len)
    assert len(long) > 300  # the summary cuts titles at 300: the check still recognises it
    problems, s = _judged(_report(passes=["must issue"], failures=eddsa), set(), table)
    assert problems == [] and len(s["known_suite_defects"]) == len(eddsa)
    problems, _ = _judged(_report(passes=["must issue", long], failures=[t for t in eddsa if t != long]), set(), table)
    assert problems == [f"known failure now passes: remove it from the table (KNOWN_SUITE_DEFECTS): {long}"]


def test_without_the_stub_run_an_unclassified_failure_does_not_fail_the_run():
    results = _report(passes=["a"], failures=["b"])
    s = w3c_suites.summarize(results, 57)
    assert s["failures"][0]["kind"] == "unknown"
    assert w3c_suites.judge("eddsa", results, s, ()) == []
