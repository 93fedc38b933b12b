"""Field rules: the corporate number's check digit (法人番号の指定等に関する省令 第二条),
the ASCII subject fields, prefectures and postal codes."""

from __future__ import annotations

import pytest

from certdesk.core.errors import InvalidInput
from certdesk.organizations import rules
from tests.certdesk.organizations.conftest import NTA_NUMBER, OTHER_NUMBER


@pytest.mark.parametrize(
    "number",
    [
        NTA_NUMBER,  # 国税庁
        OTHER_NUMBER,
        # The worked example of the calculation the NTA's explanation walks through.
        "7123456789012",
    ],
)
def test_published_corporate_numbers_pass_the_check_digit(number):
    assert rules.corporate_number_check_digit(number[1:]) == int(number[0])
    assert rules.clean_corporate_number(number) == number


def test_the_check_digit_weights_the_right_most_digit_once():
    # 1 at n = 1 (weight 1): 9 - 1 = 8; 1 at n = 2 (weight 2): 9 - 2 = 7.
    assert rules.corporate_number_check_digit("000000000001") == 8
    assert rules.corporate_number_check_digit("000000000010") == 7
    # A sum divisible by nine gives 9, never 0: the first digit is never zero.
    assert rules.corporate_number_check_digit("000000000000") == 9


@pytest.mark.parametrize(
    "typo",
    [
        "8000012050002",  # wrong check digit
        "7000012050003",  # last digit mistyped
        "7000021050002",  # two digits swapped
    ],
)
def test_a_mistyped_corporate_number_is_refused_by_its_check_digit(typo):
    with pytest.raises(InvalidInput) as caught:
        rules.clean_corporate_number(typo)
    assert caught.value.code == "corporate_number_check_digit"
    assert caught.value.field == "corporate_number"


@pytest.mark.parametrize("value", ["700001205000", "70000120500021", "7000O12050002", "abc"])
def test_a_corporate_number_that_is_not_13_digits_is_refused(value):
    with pytest.raises(InvalidInput) as caught:
        rules.clean_corporate_number(value)
    assert caught.value.code == "invalid_corporate_number"


@pytest.mark.parametrize(
    "typed", ["7-0000-1205-0002", " 7000 0120 50002 ", "７００００１２０５０００２"]
)
def test_hyphens_spaces_and_full_width_digits_are_accepted(typed):
    assert rules.clean_corporate_number(typed) == NTA_NUMBER


def test_an_empty_corporate_number_is_required():
    with pytest.raises(InvalidInput) as caught:
        rules.clean_corporate_number("  ")
    assert caught.value.code == "field_required"


def test_the_english_name_must_be_ascii():
    with pytest.raises(InvalidInput) as caught:
        rules.clean_name_en("株式会社サンプル")
    assert (caught.value.code, caught.value.field) == ("not_ascii", "name_en")
    with pytest.raises(InvalidInput) as caught:
        rules.clean_name_en("Café Tokyo K.K.")
    assert caught.value.code == "not_ascii"


def test_the_english_name_is_at_most_64_characters():
    assert rules.clean_name_en("A" * 64) == "A" * 64
    with pytest.raises(InvalidInput) as caught:
        rules.clean_name_en("A" * 65)
    assert caught.value.code == "field_too_long"
    assert "65" in str(caught.value.message)


def test_full_width_letters_and_extra_spaces_are_normalised():
    assert rules.clean_name_en("  Ｓａｍｐｌｅ   Ｓｈｏｊｉ Co., Ltd. ") == "Sample Shoji Co., Ltd."
    assert rules.clean_locality("Ｃｈｉｙｏｄａ－ｋｕ") == "Chiyoda-ku"


def test_the_city_must_be_english():
    with pytest.raises(InvalidInput) as caught:
        rules.clean_locality("千代田区")
    assert (caught.value.code, caught.value.field) == ("not_ascii", "locality")


def test_prefectures_are_the_47_by_english_name_in_any_case():
    assert len(rules.PREFECTURES) == 47
    assert rules.clean_prefecture("osaka") == "Osaka"
    assert rules.clean_prefecture("TOKYO") == "Tokyo"
    with pytest.raises(InvalidInput) as caught:
        rules.clean_prefecture("Tokyo-to")
    assert caught.value.code == "invalid_prefecture"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1008978", "100-8978"),
        ("100-8978", "100-8978"),
        ("〒１００－８９７８", "100-8978"),
        ("", ""),
    ],
)
def test_postal_codes_are_stored_as_three_dash_four(typed, stored):
    assert rules.clean_postal_code(typed) == stored


def test_a_postal_code_of_the_wrong_length_is_refused():
    with pytest.raises(InvalidInput) as caught:
        rules.clean_postal_code("100-897")
    assert caught.value.code == "invalid_postal_code"


def test_the_japanese_name_may_not_hold_control_characters():
    with pytest.raises(InvalidInput) as caught:
        rules.clean_name_ja("国税\x00庁")
    assert caught.value.code == "invalid_characters"


def test_the_nta_lookup_link_names_the_number():
    assert rules.nta_lookup_url(NTA_NUMBER).endswith("selHouzinNo=7000012050002")
    assert rules.nta_lookup_url(NTA_NUMBER).startswith("https://www.houjin-bangou.nta.go.jp/")
