"""Profiles and the dated CA/Browser Forum schedules (validity cap, validation reuse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import pki
from tests.pki.helpers import vector

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("moment", "cap", "reuse"),
    [
        (datetime(2025, 6, 1, tzinfo=UTC), 398, 398),
        (datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC), 398, 398),
        (datetime(2026, 3, 15, 0, 0, 0, tzinfo=UTC), 200, 200),
        # 2026-03-15 08:59 in Tokyo is still the 14th in UTC.
        (datetime(2026, 3, 15, 8, 59, 59, tzinfo=JST), 398, 398),
        (datetime(2026, 11, 20, tzinfo=UTC), 200, 200),
        (datetime(2027, 3, 14, 23, 59, 59, tzinfo=UTC), 200, 200),
        (datetime(2027, 3, 15, tzinfo=UTC), 100, 100),
        (datetime(2029, 3, 14, 23, 59, 59, tzinfo=UTC), 100, 100),
        (datetime(2029, 3, 15, tzinfo=UTC), 47, 10),
        (datetime(2035, 1, 1, tzinfo=UTC), 47, 10),
    ],
)
def test_schedules_follow_the_baseline_requirements(moment: datetime, cap: int, reuse: int) -> None:
    assert pki.validity_cap_days(moment) == cap
    assert pki.default_validity_days(moment) == cap - 1
    assert pki.dcv_reuse_days(moment) == reuse


def test_default_validity_is_one_day_under_the_cap_counting_both_ends() -> None:
    now = datetime(2026, 11, 20, 3, 0, 0, 999_999, tzinfo=UTC)
    not_before, not_after = pki.validity_period(now)
    assert not_before == datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
    # RFC 5280 counts both ends: 199 days exactly is notAfter = notBefore + 199 d - 1 s.
    assert not_after - not_before + timedelta(seconds=1) == timedelta(days=199)


def test_the_full_cap_may_be_asked_for_but_not_a_day_more() -> None:
    now = datetime(2027, 6, 1, tzinfo=UTC)
    not_before, not_after = pki.validity_period(now, 100)
    assert not_after - not_before + timedelta(seconds=1) == timedelta(days=100)
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.validity_period(now, 101)
    assert refused.value.code == "validity_exceeds_cap"
    assert "100" in refused.value.message_en and "2027-06-01" in refused.value.message_ja


@pytest.mark.parametrize("days", [0, -5])
def test_validity_must_be_at_least_a_day(days: int) -> None:
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.validity_period(datetime(2026, 11, 20, tzinfo=UTC), days)
    assert refused.value.code == "validity_invalid"


def test_naive_time_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.validity_cap_days(datetime(2026, 11, 20))  # noqa: DTZ001 - the point of the test


def test_there_are_six_profiles() -> None:
    assert sorted(pki.PROFILES) == [
        "dv-multi",
        "dv-single",
        "dv-wildcard",
        "ov-multi",
        "ov-single",
        "ov-wildcard",
    ]
    assert str(pki.profile_get("dv-single").policy_oid.dotted_string) == "2.23.140.1.2.1"
    assert str(pki.profile_get("ov-wildcard").policy_oid.dotted_string) == "2.23.140.1.2.2"


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.profile_get("ev-single")
    assert refused.value.code == "profile_unknown"
    assert refused.value.value == "ev-single"


@pytest.mark.parametrize(
    ("filename", "fitting"),
    [
        ("accepted--ecdsa-p256-single.csr.pem", ["dv-multi", "dv-single"]),
        ("accepted--rsa-2048-multi.csr.pem", ["dv-multi"]),
        ("accepted--ecdsa-p256-wildcard.csr.pem", ["dv-wildcard"]),
        ("accepted--rsa-3072-wildcard.csr.pem", ["dv-wildcard"]),
    ],
)
def test_profile_fit_follows_the_names(filename: str, fitting: list[str]) -> None:
    csr = pki.validate_csr(vector(filename))
    found = pki.profiles_fitting(csr, level=pki.ValidationLevel.DV)
    assert sorted(profile.key for profile in found) == fitting


@pytest.mark.parametrize(
    ("filename", "profile", "code"),
    [
        ("accepted--rsa-2048-multi.csr.pem", "dv-single", "profile_single_name"),
        ("accepted--ecdsa-p256-wildcard.csr.pem", "ov-single", "profile_wildcard_not_allowed"),
        ("accepted--rsa-3072-wildcard.csr.pem", "dv-multi", "profile_wildcard_not_allowed"),
        ("accepted--ecdsa-p256-single.csr.pem", "dv-wildcard", "profile_wildcard_required"),
    ],
)
def test_csr_not_fitting_a_profile_is_refused(filename: str, profile: str, code: str) -> None:
    csr = pki.validate_csr(vector(filename))
    with pytest.raises(pki.CsrRejected) as refused:
        pki.profile_get(profile).check(csr)
    assert refused.value.code == code
    assert refused.value.field == "profile"
    assert profile in refused.value.message_en


def test_profile_name_limit_is_its_own() -> None:
    small = pki.Profile(pki.ValidationLevel.DV, pki.NameScope.MULTI, max_names=2)
    csr = pki.validate_csr(vector("accepted--ecdsa-p384-multi-no-cn.csr.pem"))
    with pytest.raises(pki.CsrRejected) as refused:
        small.check(csr)
    assert refused.value.code == "profile_too_many_names"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "country": "JP", "state": "Tokyo"}, "organizationName"),
        ({"name": "x" * 65, "country": "JP", "state": "Tokyo"}, "organizationName"),
        ({"name": " Shop K.K.", "country": "JP", "state": "Tokyo"}, "organizationName"),
        ({"name": "Shop K.K.", "country": "jp", "state": "Tokyo"}, "countryName"),
        ({"name": "Shop K.K.", "country": "JPN", "state": "Tokyo"}, "countryName"),
        ({"name": "Shop K.K.", "country": "JP"}, "localityName"),
        ({"name": "Shop K.K.", "country": "JP", "locality": ""}, "localityName"),
    ],
)
def test_organisation_fields_are_checked(fields: dict[str, str], field: str) -> None:
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.Organization(**fields)
    assert refused.value.code == "organization_invalid"
    assert refused.value.field == field


def test_ov_needs_an_organisation_and_dv_takes_none() -> None:
    organisation = pki.Organization(name="Shop Certdesk K.K.", country="JP", state="Tokyo")
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.profile_get("ov-single").check_organization(None)
    assert refused.value.code == "organization_required"
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.profile_get("dv-single").check_organization(organisation)
    assert refused.value.code == "organization_not_allowed"
