"""The console's product catalogue: list, edit names/price/maximum names/on sale, add."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from certdesk.audit.models import AuditEvent
from certdesk.certificates.models import Product
from tests.certdesk.members.factories import UserFactory

pytestmark = pytest.mark.django_db


def edit_fields(product: Product, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name_ja": product.name_ja,
        "name_en": product.name_en,
        "price_jpy": product.price_jpy,
        "max_names": product.max_names,
    }
    if product.is_active:
        fields["is_active"] = "on"
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def field_error(body: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error".*?</ul>', body, re.S)
    return match.group(0) if match else ""


@pytest.mark.parametrize(
    "page", ["/console/products/", "/console/products/new/", "/console/products/1/"]
)
def test_customers_get_not_found(client, page):
    client.force_login(UserFactory())
    assert client.get(page).status_code == 404


def test_the_list_shows_the_six_products(console):
    body = console.get("/console/products/").content.decode()
    for code in ("dv-single", "dv-multi", "dv-wildcard", "ov-single", "ov-multi", "ov-wildcard"):
        assert f"<code>{code}</code>" in body
    assert body.count('class="badge ok">販売中<') == 6


def test_edit_price_names_and_take_off_sale(console, operator):
    product = Product.objects.get(code="dv-multi")
    response = console.post(
        f"/console/products/{product.pk}/",
        edit_fields(
            product, price_jpy=15000, max_names=50, name_en="DV multi-name", is_active=None
        ),
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price_jpy, product.max_names, product.name_en) == (15000, 50, "DV multi-name")
    assert product.is_active is False
    event = AuditEvent.objects.get(action="product.updated")
    assert event.actor == operator
    assert event.data["changed"]["price_jpy"] == [13200, 15000]
    assert event.data["changed"]["is_active"] == [True, False]
    listing = console.get("/console/products/").content.decode()
    assert "商品 dv-multi を保存しました。" in listing
    assert "販売停止中" in listing


def test_a_single_name_product_keeps_one_name(console):
    product = Product.objects.get(code="ov-single")
    response = console.post(f"/console/products/{product.pk}/", edit_fields(product, max_names=3))
    assert response.status_code == 422
    assert "最大名前数は 1 にしてください" in field_error(response.content.decode(), "max_names")
    product.refresh_from_db()
    assert product.max_names == 1


def test_a_negative_or_missing_price_is_refused(console):
    product = Product.objects.get(code="dv-single")
    response = console.post(f"/console/products/{product.pk}/", edit_fields(product, price_jpy=""))
    assert response.status_code == 422
    assert field_error(response.content.decode(), "price_jpy")
    response = console.post(
        f"/console/products/{product.pk}/", edit_fields(product, price_jpy=10_000_000)
    )
    assert response.status_code == 422
    assert "9,999,999" in field_error(response.content.decode(), "price_jpy")
    product.refresh_from_db()
    assert product.price_jpy == 3300


def test_add_a_product_with_a_profile_and_supplier(console):
    form = console.get("/console/products/new/").content.decode()
    assert '<option value="ov-wildcard">' in form
    assert '<option value="builtin" selected>' in form
    response = console.post(
        "/console/products/new/",
        {
            "code": "ov-multi-10",
            "profile": "ov-multi",
            "supplier": "builtin",
            "name_ja": "OV マルチドメイン証明書（10 ドメイン）",
            "name_en": "OV multi-domain certificate (10 names)",
            "price_jpy": 49500,
            "max_names": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(code="ov-multi-10")
    assert (product.profile, product.supplier, product.max_names) == ("ov-multi", "builtin", 10)
    assert product.is_ov and product.is_active
    assert product.sort_order > Product.objects.get(code="ov-wildcard").sort_order
    assert AuditEvent.objects.get(action="product.created").data["profile"] == "ov-multi"


def test_adding_refuses_unknown_profiles_suppliers_and_taken_codes(console):
    response = console.post(
        "/console/products/new/",
        {
            "code": "dv-single",
            "profile": "ev-single",
            "supplier": "nowhere",
            "name_ja": "x",
            "name_en": "x",
            "price_jpy": 1,
            "max_names": 1,
        },
    )
    # Unknown choices are refused by the form before anything else.
    assert response.status_code == 422
    body = response.content.decode()
    assert field_error(body, "profile") and field_error(body, "supplier")
    taken = console.post(
        "/console/products/new/",
        {
            "code": "dv-single",
            "profile": "dv-single",
            "supplier": "builtin",
            "name_ja": "重複",
            "name_en": "Duplicate",
            "price_jpy": 1,
            "max_names": 1,
        },
    )
    assert taken.status_code == 409
    assert "このコードの商品はすでに存在します" in field_error(taken.content.decode(), "code")
    assert Product.objects.count() == 6


def test_the_profile_and_supplier_are_fixed_once_created(console):
    product = Product.objects.get(code="dv-wildcard")
    console.post(
        f"/console/products/{product.pk}/",
        {**edit_fields(product), "profile": "ov-wildcard", "supplier": "other"},
    )
    product.refresh_from_db()
    assert (product.profile, product.supplier) == ("dv-wildcard", "builtin")


def test_the_name_limit_follows_the_profile():
    from certdesk.console.services import ProductChanges, product_update
    from certdesk.core.errors import InvalidInput
    from tests.certdesk.terms.factories import OperatorFactory

    operator = OperatorFactory()
    multi = Product.objects.get(code="dv-multi")
    wildcard = Product.objects.get(code="dv-wildcard")
    for product, value in ((multi, 1), (multi, 101), (wildcard, 0)):
        with pytest.raises(InvalidInput) as caught:
            product_update(
                actor=operator,
                product_id=product.pk,
                changes=ProductChanges(max_names=value),
                now=timezone.now(),
            )
        assert caught.value.code == "invalid_max_names"
    updated = product_update(
        actor=operator,
        product_id=wildcard.pk,
        changes=ProductChanges(max_names=100),
        now=timezone.now(),
    )
    assert updated.max_names == 100


def test_customers_cannot_change_products_through_the_service():
    from certdesk.console.services import ProductChanges, product_update
    from certdesk.core.errors import NotFound

    product = Product.objects.get(code="dv-single")
    with pytest.raises(NotFound):
        product_update(
            actor=UserFactory(),
            product_id=product.pk,
            changes=ProductChanges(price_jpy=1),
            now=timezone.now(),
        )
    product.refresh_from_db()
    assert product.price_jpy == 3300
