"""Self-registration in the portal (terms 1.1, 2.1): account ID, password, data, terms."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import Account, EmailToken, User
from certdesk.accounts.services import Registration, account_register
from certdesk.core.errors import InvalidInput, ServiceUnavailable
from certdesk.terms.models import TermsAcceptance, TermsVersion
from tests.certdesk.accounts.conftest import Client, actions
from tests.certdesk.accounts.factories import PASSWORD, UserFactory, registration_data

pytestmark = pytest.mark.django_db

URL = "/accounts/register/"


def counts() -> tuple[int, int, int]:
    return Account.objects.count(), User.objects.count(), TermsAcceptance.objects.count()


def register(client: Client | None = None, **overrides: object):
    return (client or Client()).post(URL, registration_data(**overrides))


def test_page_shows_the_current_terms_version_with_a_link_and_a_required_box(clock):
    body = Client().get(URL).content.decode()
    version = TermsVersion.objects.get(number=1)
    assert 'href="/terms/1/"' in body
    assert "利用規約（第1版）" in body
    assert 'name="accept_terms"' in body and "required" in body
    assert f'name="terms_version" value="{version.number}"' in body


def test_registration_creates_account_owner_acceptance_and_sends_a_link(clock):
    client = Client(REMOTE_ADDR="203.0.113.7")
    response = client.post(URL, registration_data(username="Tanaka-Web"))
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.get()
    account = user.account
    assert user.username == "tanaka-web"  # the ID is case-insensitive: stored in lower case
    assert user.role == User.Role.OWNER and user.check_password(PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    assert not user.email_verified
    assert account.organization_name == "株式会社タナカ商事"
    assert account.email == user.email and account.phone == "06-1234-5678"
    assert account.data_confirmed_at == clock()
    acceptance = TermsAcceptance.objects.get()
    assert (acceptance.user, acceptance.version.number, acceptance.ip) == (
        user,
        1,
        "203.0.113.7",
    )
    assert acceptance.accepted_at == clock()
    assert "account.registered" in actions(account=account)
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "[certdesk] メールアドレスの確認をお願いします"
    assert re.search(r"http://testserver/accounts/verify/[\w-]{40,}/", message.body)
    assert "tanaka-web" in message.body


def test_registration_signs_the_new_owner_in_and_shows_the_unverified_banner(clock):
    client = Client()
    register(client)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "メールアドレスの確認が完了していません" in page.content.decode()


def test_english_registration_gets_english_mail(clock):
    Client().post(URL, registration_data(language="en"))
    user = User.objects.get()
    assert user.language == "en"
    assert mail.outbox[0].subject == "[certdesk] Please confirm your email address"
    assert "Dear 田中 花子," in mail.outbox[0].body


def test_language_defaults_to_the_page_language(clock):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(URL).content.decode()
    assert '<option value="en" selected>' in page


def test_duplicate_account_id_is_refused_case_insensitively(clock):
    UserFactory(username="tanaka-web")
    before = counts()
    response = register(username="TANAKA-WEB", email="other@example.jp")
    assert response.status_code == 422
    assert "このアカウントIDは既に使われています" in response.content.decode()
    assert counts() == before
    assert mail.outbox == []


def test_duplicate_email_is_refused_case_insensitively(clock):
    UserFactory(email="hanako.tanaka@tanaka-shoji.example.jp")
    before = counts()
    response = register(email="Hanako.Tanaka@TANAKA-SHOJI.example.jp")
    assert response.status_code == 422
    assert "このメールアドレスは既に登録されています" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("reserved", ["admin", "root", "operator", "support", "certdesk", "Admin"])
def test_reserved_account_ids_are_refused(clock, reserved):
    response = register(username=reserved)
    assert response.status_code == 422
    assert "このアカウントIDは予約されているため" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "username", ["ab", "-tanaka", ".tanaka", "tanaka web", "tanaka@web", "田中", "a" * 33]
)
def test_malformed_account_ids_are_refused(clock, username):
    response = register(username=username)
    assert response.status_code == 422
    body = response.content.decode()
    assert "アカウントID" in body and 'id="id_username_error"' in body
    # Screen readers are pointed from the input to its error list.
    username_input = re.search(r'<input[^>]*name="username"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in username_input
    assert "id_username_error" in re.search(r'aria-describedby="([^"]*)"', username_input).group(1)
    assert not Account.objects.exists()


def test_weak_password_shows_every_rule_it_breaks(clock):
    response = register(password="password")
    assert response.status_code == 422
    body = response.content.decode()
    assert "このパスワードは短すぎます" in body
    assert "このパスワードは一般的すぎます" in body
    assert not User.objects.exists()


def test_password_like_the_account_id_is_refused(clock):
    response = register(username="kobayashi-kazuko", password="Kobayashi-Kazuko")
    assert response.status_code == 422
    assert "似すぎています" in response.content.decode()
    assert not User.objects.exists()


def test_password_over_128_characters_is_refused(clock):
    response = register(password="Aa1!" * 40)
    assert response.status_code == 422
    assert "長すぎます" in response.content.decode()


def test_mismatched_password_confirmation_is_refused(clock):
    response = register(password_confirm="Something-Else-2026!")
    assert response.status_code == 422
    assert "2つのパスワードが一致しません" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "email", ["hanako", "hanako@", "@example.jp", "hanako@example", "a b@c.jp"]
)
def test_malformed_email_is_refused(clock, email):
    response = register(email=email)
    assert response.status_code == 422
    assert "有効なメールアドレスを入力してください" in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "03-1234-567a",
        "+81 3 1234 5678 9012 34",
        "０３－１２３４－５６７８",
        "03+1234+5678",
    ],
)
def test_malformed_phone_is_refused(clock, phone):
    response = register(phone=phone)
    assert response.status_code == 422
    assert "電話番号は10～15桁" in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "phone",
    [
        "03-1234-5678",
        "0312345678",
        "090 1234 5678",
        "+81 3-1234-5678",
        "(03) 1234-5678",
        "+1 (415) 555-0100",
    ],
)
def test_japanese_and_international_phone_formats_are_accepted(clock, phone):
    assert register(phone=phone).status_code == 302
    assert Account.objects.get().phone == phone


def test_ten_thousand_character_name_is_a_field_error_not_a_500(clock):
    response = register(full_name="山" * 10_000, organization_name="x" * 10_000)
    assert response.status_code == 422
    body = response.content.decode()
    assert "お名前が長すぎます。100文字以内" in body
    assert "組織名が長すぎます。200文字以内" in body
    assert counts() == (0, 0, 0)


def test_missing_fields_are_named(clock):
    response = register(full_name="", address="  ")
    assert response.status_code == 422
    body = response.content.decode()
    assert "お名前を入力してください" in body
    assert "住所を入力してください" in body


def test_errors_are_shown_in_english_for_an_english_page(clock):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        URL, registration_data(username="root", phone="123")
    )
    body = response.content.decode()
    assert "This account ID is reserved" in body
    assert "Enter a phone number of 10 to 15 digits" in body


def test_terms_must_be_ticked(clock):
    data = registration_data()
    data.pop("accept_terms")
    response = Client().post(URL, data)
    assert response.status_code == 422
    assert "利用規約をお読みのうえ" in response.content.decode()
    assert counts() == (0, 0, 0)


def test_an_outdated_terms_version_is_refused_and_the_new_one_shown(clock):
    TermsVersion.objects.create(
        number=2,
        title_ja="第2版",
        title_en="v2",
        body_ja="本文",
        body_en="text",
        status=TermsVersion.Status.PUBLISHED,
        published_at=clock(),
        created_at=clock(),
        updated_at=clock(),
    )
    response = register(terms_version=1)
    assert response.status_code == 422
    body = response.content.decode()
    assert "利用規約が第2版に更新されました" in body
    assert 'name="terms_version" value="2"' in body
    assert 'href="/terms/2/"' in body
    assert counts() == (0, 0, 0)
    assert register(terms_version=2).status_code == 302
    assert TermsAcceptance.objects.get().version.number == 2


def test_registration_is_refused_while_no_terms_are_published(clock):
    TermsVersion.objects.update(status=TermsVersion.Status.DRAFT, published_at=None)
    assert "利用規約が公開されていない" in Client().get(URL).content.decode()
    response = register()
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert counts() == (0, 0, 0)
    with pytest.raises(ServiceUnavailable) as excinfo:
        account_register(data=_registration(), ip=None, now=clock())
    assert excinfo.value.code == "terms_unavailable"


def test_csrf_less_post_is_refused_with_a_page_and_nothing_saved(clock):
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, registration_data())
    assert response.status_code == 403
    assert "csrf_failed" in response.content.decode()
    assert counts() == (0, 0, 0)


def _registration(**overrides: object) -> Registration:
    data = registration_data()
    data.pop("password_confirm")
    data["accept_terms"] = True
    data.update(overrides)
    return Registration(**data)  # type: ignore[arg-type]


def test_service_reports_every_field_error_at_once(clock):
    with pytest.raises(InvalidInput) as excinfo:
        account_register(
            data=_registration(username="x", email="nope", phone="1", password="short"),
            ip=None,
            now=clock(),
        )
    codes = {(e["field"], e["code"]) for e in excinfo.value.errors}
    assert {
        ("username", "invalid_account_id"),
        ("email", "invalid_email"),
        ("phone", "invalid_phone"),
        ("password", "password_weak"),
    } <= codes
    assert excinfo.value.code == "invalid_account_id"
    assert not Account.objects.exists()


def test_registration_stores_only_a_hash_of_the_link(clock):
    register()
    token = EmailToken.objects.get()
    link = re.search(r"/accounts/verify/([\w-]+)/", mail.outbox[0].body).group(1)
    assert token.token_hash != link and link not in token.token_hash
    assert token.purpose == EmailToken.Purpose.VERIFY


@pytest.mark.django_db(transaction=True)
def test_registration_mail_goes_through_a_real_smtp_server(smtp_server, clock):
    response = register()
    assert response.status_code == 302
    [message] = smtp_server.messages
    assert message["Subject"].strip() == "[certdesk] メールアドレスの確認をお願いします"
    assert message["To"] == "hanako.tanaka@tanaka-shoji.example.jp"
    body = message.get_content()
    link = re.search(r"http://testserver(/accounts/verify/[\w-]+/)", body).group(1)
    assert "田中 花子" in body
    assert Client().get(link).status_code == 200
    assert User.objects.get().email_verified
