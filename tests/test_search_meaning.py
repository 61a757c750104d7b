"""Search finds what a patient means (issue: search quality): broad terms find the narrower ones,
the taxonomies are trees with standard codes, and counts include what lies below."""

from __future__ import annotations

from conftest import ADMIN
from test_search import NYC, names, offset, publish, search


async def test_depression_finds_every_kind_of_depression(client):
    for code in ("treatment-resistant-depression", "postpartum-depression", "bipolar-depression", "major-depression"):
        await publish(client, code, offset(NYC, 3), conditions=[code])
    await publish(client, "pain only", offset(NYC, 2), conditions=["chronic-pain"])
    found = await search(client, lat=NYC[0], lon=NYC[1], condition="depression", sort="name")
    assert names(found) == ["bipolar-depression", "major-depression", "postpartum-depression", "treatment-resistant-depression"]
    # A narrow term stays narrow: a search for postpartum depression does not return the others.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="PPD")) == ["postpartum-depression"]
    # "MDD" names major depression; the plain word is the broad term.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="MDD")) == ["major-depression"]


async def test_all_of_two_broad_terms_means_one_of_each(client):
    await publish(client, "both", offset(NYC, 1), conditions=["postpartum-depression", "fibromyalgia"])
    await publish(client, "one", offset(NYC, 2), conditions=["postpartum-depression"])
    found = await search(client, lat=NYC[0], lon=NYC[1], condition=["depression", "chronic-pain"], condition_match="all")
    assert names(found) == ["both"]
    either = await search(client, lat=NYC[0], lon=NYC[1], condition=["depression", "chronic-pain"])
    assert names(either) == ["both", "one"]


async def test_broad_service_terms_find_the_narrower_services(client):
    await publish(client, "booster", offset(NYC, 1), services=[{"code": "ketamine-maintenance"}])
    await publish(client, "spray", offset(NYC, 2), services=[{"code": "esketamine-spravato"}])
    assert names(await search(client, lat=NYC[0], lon=NYC[1], service="ketamine")) == ["booster"]


async def test_free_text_of_a_broad_word_finds_the_narrower_entries(client):
    await publish(client, "Northside Clinic", offset(NYC, 1), conditions=["fibromyalgia"])
    assert names(await search(client, lat=NYC[0], lon=NYC[1], q="pain")) == ["Northside Clinic"]


async def test_the_condition_list_is_a_tree_with_standard_codes_and_counts_of_everything_below(client):
    await publish(client, "a", offset(NYC, 1), conditions=["postpartum-depression", "treatment-resistant-depression"])
    await publish(client, "b", offset(NYC, 2), conditions=["major-depression"])
    response = await client.get("/v1/conditions")
    assert response.status_code == 200
    entries = {entry["code"]: entry for entry in response.json()["items"]}
    depression = entries["depression"]
    assert depression["parent"] is None
    assert set(depression["children"]) == {"major-depression", "treatment-resistant-depression", "postpartum-depression", "bipolar-depression"}
    assert "depression" in [s.lower() for s in depression["synonyms"]]
    assert {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.A", "display": "Depression, unspecified"} in depression["codings"]
    # Listing "a" names two kinds of depression and counts once.
    assert depression["provider_count"] == 2
    assert entries["postpartum-depression"]["parent"] == "depression" and entries["postpartum-depression"]["provider_count"] == 1
    assert entries["crps"]["parent"] == "chronic-pain" and entries["neuropathic-pain"]["parent"] == "chronic-pain"
    services = {entry["code"]: entry for entry in (await client.get("/v1/services")).json()["items"]}
    assert "ketamine-iv" in services["ketamine"]["children"] and services["esketamine-spravato"]["parent"] is None


async def test_a_listing_may_name_the_broad_term_itself(client):
    response = await client.post(
        "/v1/providers",
        json={"name": "General", "status": "published", "conditions": ["depression"], "locations": [{"latitude": NYC[0], "longitude": NYC[1]}]},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="depression")) == ["General"]
    # It says depression, not which kind: it is not a match for postpartum depression.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="postpartum-depression")) == []
