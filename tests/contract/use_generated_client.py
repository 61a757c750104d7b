"""Run by tests/test_contract.py with the client openapi-python-client generated on its PYTHONPATH:
what a partner's code does with it. Arguments: the API's base URL and an administrator's token."""

import sys

from directory_client import AuthenticatedClient, Client
from directory_client.api.listings import v1_providers_create_provider, v1_providers_key_update_provider
from directory_client.api.search import v1_search_geojson_search, v1_search_search
from directory_client.models import Problem, ProviderCreate, ProviderPublic, ProviderUpdate, SearchPage

base, token = sys.argv[1:3]
anonymous = Client(base_url=base)
admin = AuthenticatedClient(base_url=base, token=token)

page = v1_search_search.sync(client=anonymous, near="10001", radius=100, limit=5, total=True)
assert isinstance(page, SearchPage) and page.items and page.total >= len(page.items), page
assert page.items[0].distance <= page.items[-1].distance

geo = v1_search_geojson_search.sync(client=anonymous, near="10001", radius=100, limit=5)
assert geo.type_.value == "FeatureCollection" and len(geo.features) == len(page.items), geo
assert [f.geometry.coordinates for f in geo.features][0] == [page.items[0].location.longitude, page.items[0].location.latitude]

problem = v1_search_search.sync(client=anonymous, near="10001", radius=-5)
assert isinstance(problem, Problem) and problem.status == 400 and problem.errors[0].field == "radius", problem

body = ProviderCreate.from_dict({"name": "Generated Client Clinic", "status": "published", "conditions": ["ptsd"], "locations": [{"postal_code": "10001"}]})
created = v1_providers_create_provider.sync_detailed(client=admin, body=body)
assert created.status_code == 201 and isinstance(created.parsed, ProviderPublic), created.content
etag = created.headers["etag"]
change = ProviderUpdate(description="Evening infusions on Thursdays.")
updated = v1_providers_key_update_provider.sync_detailed(created.parsed.slug, client=admin, body=change, if_match=etag)
assert updated.status_code == 200 and updated.parsed.description == "Evening infusions on Thursdays.", updated.content
assert updated.headers["etag"] != etag
stale = v1_providers_key_update_provider.sync(created.parsed.slug, client=admin, body=change, if_match=etag)
assert isinstance(stale, Problem) and stale.status == 412, stale
print("generated client: all good")
