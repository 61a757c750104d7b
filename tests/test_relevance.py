"""The judgement set's measures and its runner's handling of listing fields older code refuses."""

from __future__ import annotations

import json

import pytest

from directory.bench import relevance


def test_recall_and_ndcg():
    expected = ["a", "b", "c"]
    assert relevance.recall(["a", "b", "c"], expected) == 1.0
    assert relevance.ndcg(["a", "b", "c"], expected) == pytest.approx(1.0)
    assert relevance.recall(["x", "a"], expected) == pytest.approx(1 / 3)
    # The right listings in the wrong order score below 1; none of them scores 0.
    assert 0 < relevance.ndcg(["c", "b", "a"], expected) < 1
    assert relevance.ndcg(["x", "y"], expected) == 0
    # A search that should find nothing is perfect only when it finds nothing.
    assert relevance.ndcg([], []) == 1.0 and relevance.ndcg(["x"], []) == 0.0


def test_fields_named_by_a_problem_are_removed_last_first():
    body = {"locations": [{"hours": [1, 2, 3], "extra": True}], "conditions": ["a", "b"]}
    paths = ["locations.0.hours.0", "locations.0.hours.2", "locations.0.extra", "conditions[1]"]
    for path in sorted(paths, reverse=True):
        assert relevance._drop(body, path)
    assert body == {"locations": [{"hours": [2]}], "conditions": ["a"]}
    assert not relevance._drop(body, "nothing.here")


def test_the_page_sends_known_words_as_a_condition_and_others_as_text():
    vocabulary = {"depression": "depression", "ptsd": "ptsd"}
    assert relevance.page_request({"place": "10001", "words": "PTSD"}, vocabulary)["condition"] == "ptsd"
    asked = relevance.page_request({"place": "10001", "words": "depresion", "filters": {"telehealth": "true"}}, vocabulary)
    assert asked["q"] == "depresion" and "condition" not in asked and asked["telehealth"] == "true" and asked["beyond_radius"] == "true"


def test_the_judgement_set_is_large_enough_and_every_case_expects_something():
    cases = json.loads(relevance.CASES.read_text())["cases"]
    assert len(cases) >= 60
    assert len({case["id"] for case in cases}) == len(cases)
    assert {case["directory"] for case in cases} == {"sample", "synthetic"}
    for case in cases:
        assert case["says"] and case["intent"], case["id"]
