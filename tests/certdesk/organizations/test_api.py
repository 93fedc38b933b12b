"""``/api/v1/organizations``: list (keyset), register, show, change; scopes; tenancy."""

from __future__ import annotations

import pytest

from certdesk.accounts.models import User
from certdesk.organizations.models import Organization
from tests.certdesk.certificates.factories import OrganizationFactory
from tests.certdesk.members.factories import AccountFactory, UserFactory
from tests.certdesk.organizations.conftest import NTA_NUMBER, OTHER_NUMBER, organization_fields

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations"


def test_register_show_and_list(owner, api_as):
    api = api_as(owner, scopes=["account:write"])
    created = api.post(URL, organization_fields(corporate_number="7-0000-1205-0002"))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["corporate_number"] == NTA_NUMBER
    assert body["status"] == "pending"
    assert body["status_reason"] == ""
    assert body["verified_at"] is None
    shown = api.get(f"{URL}/{body['id']}")
    assert shown.status_code == 200
    assert shown.json() == body
    listed = api.get(URL).json()
    assert listed == {"items": [body], "next_cursor": None}


def test_invalid_fields_are_problem_json_listing_each(owner, api_as):
    api = api_as(owner, scopes=["account:write"])
    response = api.post(
        URL, organization_fields(corporate_number="7000012050003", name_en="Ａ" * 65)
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert {e["field"]: e["code"] for e in problem["errors"]} == {
        "name_en": "field_too_long",
        "corporate_number": "corporate_number_check_digit",
    }
    assert problem["messages"]["en"].startswith("Legal name (English) is too long")


def test_a_missing_field_is_a_validation_problem(owner, api_as):
    fields = organization_fields()
    del fields["name_ja"]
    response = api_as(owner, scopes=["account:write"]).post(URL, fields)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert response.json()["field"] == "name_ja"


def test_a_duplicate_is_409(owner, api_as):
    api = api_as(owner, scopes=["account:write"])
    api.post(URL, organization_fields())
    response = api.post(URL, organization_fields())
    assert response.status_code == 409
    assert response.json()["code"] == "organization_duplicate"
    assert response.json()["field"] == "corporate_number"


def test_patch_changes_only_what_is_sent(owner, api_as):
    organization = OrganizationFactory(account=owner.account)
    api = api_as(owner, scopes=["account:write"])
    phone = api.patch(f"{URL}/{organization.pk}", {"phone": "03-5555-6666"})
    assert phone.status_code == 200
    assert phone.json()["phone"] == "03-5555-6666"
    assert phone.json()["status"] == "verified"
    assert phone.json()["name_en"] == organization.name_en
    renamed = api.patch(f"{URL}/{organization.pk}", {"corporate_number": OTHER_NUMBER})
    assert renamed.json()["status"] == "pending"
    assert renamed.json()["corporate_number"] == OTHER_NUMBER


def test_keyset_pages_walk_every_organisation_once(owner, api_as, django_assert_max_num_queries):
    made = OrganizationFactory.create_batch(7, account=owner.account)
    api = api_as(owner, scopes=["account:read"])
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(4):  # token, its user and account, the page
            page = api.get(URL, data=query).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((o.pk for o in made), reverse=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "{url}/{id}"), ("patch", "{url}/{id}")],
)
def test_another_accounts_organisation_is_404_like_a_missing_one(owner, api_as, method, path):
    foreign = OrganizationFactory(phone="03-1111-1111")
    api = api_as(owner, scopes=["account:write"])
    args = (path.format(url=URL, id=foreign.pk),)
    missing_args = (path.format(url=URL, id=foreign.pk + 1000),)
    extra = ({"phone": "03-9999-9999"},) if method == "patch" else ()
    response = getattr(api, method)(*args, *extra)
    missing = getattr(api, method)(*missing_args, *extra)
    assert response.status_code == missing.status_code == 404
    assert response.json()["code"] == missing.json()["code"] == "organization_not_found"
    foreign.refresh_from_db()
    assert foreign.phone == "03-1111-1111"


def test_the_list_never_shows_another_accounts_organisations(owner, api_as):
    OrganizationFactory(account=AccountFactory())
    assert api_as(owner).get(URL).json()["items"] == []


def test_certificates_read_may_find_organisations_but_not_change_them(owner, api_as):
    organization = OrganizationFactory(account=owner.account)
    api = api_as(owner, scopes=["certificates:write"])
    assert api.get(URL).status_code == 200
    assert api.get(f"{URL}/{organization.pk}").status_code == 200
    refused = api.post(URL, organization_fields())
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert refused.json()["required_scope"] == "account:write"
    assert api.patch(f"{URL}/{organization.pk}", {"phone": "03-1234-0000"}).status_code == 403


def test_billing_read_alone_cannot_list(owner, api_as):
    response = api_as(owner, scopes=["billing:read"]).get(URL)
    assert response.status_code == 403
    assert response.json()["accepted_scopes"] == ["account:read", "certificates:read"]


def test_read_only_members_cannot_register(owner, api_as):
    reader = UserFactory(account=owner.account, role=User.Role.READ_ONLY)
    response = api_as(reader, scopes=["account:read"]).post(URL, organization_fields())
    assert response.status_code == 403
    assert not Organization.objects.exists()


def test_the_routes_are_documented_in_openapi(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert set(schema["paths"][URL]) == {"get", "post"}
    assert set(schema["paths"][f"{URL}/{{organization_id}}"]) == {"get", "patch"}
    assert "organization_duplicate" in schema["paths"][URL]["post"]["description"]
