"""The token and member endpoints are documented in the OpenAPI document, with bearer auth."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_documents_members_tokens_and_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/account/tokens"]) == {"get", "post"}
    assert set(paths["/api/v1/account/tokens/{token_id}"]) == {"get", "delete"}
    assert set(paths["/api/v1/account/members"]) == {"get", "post"}
    assert set(paths["/api/v1/account/members/{member_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/account/members/invitations/{invitation_id}"]) == {"get", "delete"}
    assert paths["/api/v1/account/tokens"]["get"]["security"] == [{"TokenBearer": []}]
    assert "security" not in paths["/api/v1/auth/token"]["post"]
    assert schema["components"]["securitySchemes"]["TokenBearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    created = paths["/api/v1/account/tokens"]["post"]["responses"]["201"]
    assert "secret" in str(schema["components"]["schemas"]["TokenCreatedOut"]) and created
