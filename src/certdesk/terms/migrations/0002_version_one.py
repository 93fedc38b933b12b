# ruff: noqa: E501
"""Version 1 of the certdesk terms of use, in effect from 2026-01-01 00:00 JST.

The text is frozen here on purpose: a migration must keep producing the same rows even when
later versions of the terms are written.
"""

from datetime import datetime, timedelta, timezone

from django.db import migrations

PUBLISHED_AT = datetime(2026, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=9)))

TITLE_JA = "certdesk 利用規約"
TITLE_EN = "certdesk Terms of Use"

BODY_JA = """\
certdesk 利用規約（第1版）

この規約は、当社が運営するサーバ証明書管理システム「certdesk」（以下「本システム」）を利用してサーバ証明書（以下「証明書」）の申請、更新、ダウンロード、失効などを行う法人・団体およびその担当者（以下「お客様」）と当社との間のルールを定めるものです。本システムをご利用いただくには、この規約に同意していただく必要があります。

第1条（本システムの目的と利用の許諾）
1. 当社は、この規約に同意されたお客様に対し、本システムを利用する権利を許諾します。同意いただけない場合、本システムはご利用いただけません。
2. お客様は、本システムで証明書の申請・更新・ダウンロード・失効、発行済み証明書の履歴の閲覧と検索、およびアカウント情報の管理を行うことができます。
3. お客様がこの規約上の義務を果たさない場合、支払不能またはそのおそれが明らかになった場合、証明書の代金が支払期日から30日を過ぎても支払われない場合などには、当社は利用の許諾を取り消すことがあります。取り消しの後は、証明書の申請・更新・発行はできなくなり、その旨を電子メールでお知らせします。

第2条（アカウント、アカウントIDおよびパスワード）
1. お客様は、ご自身でアカウントを作成し、アカウントIDとパスワードを自らの責任で設定・管理します。
2. パスワードは他人と共有しないでください。複数の担当者が利用する場合は、担当者ごとにメンバーとして登録し、それぞれのアカウントIDでサインインしてください。
3. アカウントに登録する情報は正確なものとし、変更があったときは速やかに本システムで更新してください。当社は年に一度、登録情報の確認をお願いします。
4. アカウントIDまたはパスワードの管理が不十分であったために生じた損害について、当社は責任を負いません。不正な利用に気付いたときは、直ちにパスワードを変更し、当社にご連絡ください。

第3条（アカウントの削除）
当社は、次のいずれかに該当するとき、アカウントに登録された電子メールアドレスまたは電話番号に事前に通知したうえで、アカウントを削除します。削除の前に、お客様はデータを書き出すことができます。法令等により保存が必要な証明書の記録および監査記録は、削除後も保存されます。
(1) お客様からアカウントの廃止を申し出られたとき
(2) お客様がこの規約または証明書に関する規程に違反したとき
(3) 当社が第1条第3項により利用の許諾を取り消したとき
(4) 当社が証明書の発行サービスを終了するとき
(5) 最後の証明書の有効期間が終了してから1年以上アカウントが利用されず、当社が保持の必要がないと判断したとき

第4条（禁止事項）
お客様は、次の行為をしてはなりません。
(1) 当社が定める方法以外で本システムを利用すること
(2) 利用を認められた組織以外の組織のために証明書を申請すること
(3) 本システムやそのデータを壊し、またはその運営を妨げる行為、およびそのおそれのある行為
(4) 法令または公序良俗に反する行為

第5条（保守等による停止）
1. 当社は、保守作業のため、実施日時と期間をあらかじめ電子メールおよび当社ウェブサイトでお知らせしたうえで、本システムの全部または一部を停止することがあります。
2. 障害や不正アクセスを検知し、直ちに対応する必要がある場合、当社は事前のお知らせなく本システムを停止することがあります。
3. 停止中に受け付けられなかった操作は、再開後にあらためて行ってください。停止によってすでに受け付けた申請が失われることはありません。

第6条（サービスの終了）
当社は、本システムの全部または一部の提供を終了するときは、終了日の90日前までに、アカウントに登録された電子メールアドレスへの電子メールおよび当社ウェブサイトでお知らせします。

第7条（料金）
証明書の料金は、当社が発行する請求書に記載された支払期日までにお支払いください。アカウントの解約後も、未払いの料金のお支払い義務はなくなりません。

第8条（規約の変更）
1. 当社は、この規約を変更することがあります。変更後の規約は、当社ウェブサイトに掲載した日から15日が経過した時点、またはそれより前にお客様へ電子メールでお知らせした場合はその時点で、効力を生じます。
2. 変更後の規約が効力を生じた後、お客様は次回のサインイン時に、変更後の規約に同意するか、アカウントの解約を申し出るかを選択していただきます。
3. 解約の申し出は、当社がアカウントを削除した時点で効力を生じます。解約後も、当社に対する未払いの債務は弁済していただく必要があります。

第9条（通知）
1. 当社からお客様への通知は、アカウントに登録された電子メールアドレスへの電子メール、または本システム上もしくは当社ウェブサイト上の掲示により行います。
2. お客様から当社への通知は、郵便、ファクシミリまたは電子メールにより行っていただき、当社が受け取った時点で効力を生じます。当社は受け取った日時を記録します。

第10条（証明書供給元への情報提供）
当社は、証明書の発行と管理のためだけに、個人情報を含むお客様の情報を、証明書に署名する認証局（証明書供給元）に提供します。提供した情報、提供先および日時は記録します。それ以外の目的で第三者に提供することはありません。

第11条（準拠法および管轄）
この規約は日本法に従って解釈されます。この規約に関して紛争が生じたときは、東京地方裁判所を第一審の専属的な管轄裁判所とします。

2026年1月1日 施行
"""

BODY_EN = """\
certdesk Terms of Use (version 1)

These terms set out the rules between the operator and the organisations and their staff ("you") who use certdesk, the server certificate management system run by the operator, to apply for, renew, download and revoke server certificates. You must accept these terms to use certdesk.

Article 1 (Purpose and licence to use)
1. The operator licenses you to use certdesk once you accept these terms. If you do not accept them, you may not use certdesk.
2. In certdesk you can apply for, renew, download and revoke certificates, browse and search the history of the certificates issued to you, and manage your account data.
3. The operator may revoke your licence if you fail to meet your obligations under these terms, if you become or are clearly about to become unable to pay, if a certificate fee is still unpaid 30 days after its due date, or in similar cases. Once revoked, you can no longer apply for, renew or obtain certificates, and you are told so by email.

Article 2 (Account, account ID and password)
1. You create your account yourself, and you choose and look after its account ID and password on your own responsibility.
2. Do not share a password. When several people work with certdesk, register each of them as a member so that everybody signs in with their own account ID.
3. Keep the data of your account accurate and update it in certdesk as soon as it changes. The operator asks you to confirm it once a year.
4. The operator is not liable for damage caused by careless handling of your account ID or password. If you notice unauthorised use, change your password at once and contact the operator.

Article 3 (Deletion of an account)
The operator deletes an account, after notifying the email address or telephone number registered for it, in the following cases. Before the deletion you may export your data; certificate records and audit records that must be retained by law are kept after it.
(1) You ask for your account to be closed.
(2) You break these terms or the rules that apply to certificates.
(3) The operator revokes your licence under article 1(3).
(4) The operator ends its certificate issuance service.
(5) The account has not been used for one year or more after its last certificate expired, and the operator sees no need to keep it.

Article 4 (Prohibited acts)
You must not:
(1) use certdesk in any way other than those the operator provides;
(2) apply for certificates for any organisation other than those you are permitted to act for;
(3) damage certdesk or its data, or disturb its operation, or do anything likely to do so;
(4) break the law or act against public order and morals.

Article 5 (Suspension for maintenance)
1. The operator may suspend all or part of certdesk for maintenance after announcing the date, time and duration by email and on its website in advance.
2. When a failure or unauthorised access is detected and must be dealt with at once, the operator may suspend certdesk without notice.
3. Actions refused during a suspension can be repeated once service resumes; requests already accepted are never lost because of a suspension.

Article 6 (End of the service)
If the operator stops providing all or part of certdesk, it announces this at least 90 days before the end, by email to the address registered for your account and on its website.

Article 7 (Fees)
Pay certificate fees by the due date shown on the invoice the operator issues. Closing your account does not release you from fees that are still unpaid.

Article 8 (Changes to these terms)
1. The operator may change these terms. A new version takes effect 15 days after it is published on the operator's website, or earlier, at the moment the operator emails it to you.
2. Once a new version is in effect, at your next sign-in you choose either to accept it or to ask for your account to be closed.
3. A request to close the account takes effect when the operator deletes the account. Any amount you owe the operator remains payable after the closure.

Article 9 (Notices)
1. The operator notifies you by email to the address registered for your account, or by a notice in certdesk or on its website.
2. You notify the operator by post, fax or email; your notice takes effect when the operator receives it, and the operator records when it was received.

Article 10 (Information given to certificate suppliers)
The operator gives your information, personal data included, to the certificate authority that signs your certificates (the supplier) only in order to issue and manage them. Each such provision is recorded: what was given, to whom and when. Your information is not given to any third party for any other purpose.

Article 11 (Governing law and jurisdiction)
These terms are governed by the laws of Japan. The Tokyo District Court has exclusive jurisdiction in the first instance over any dispute about them.

In effect from 1 January 2026.
"""


def create_version_one(apps, schema_editor):
    TermsVersion = apps.get_model("terms", "TermsVersion")
    if TermsVersion.objects.filter(number=1).exists():
        return
    TermsVersion.objects.create(
        number=1,
        title_ja=TITLE_JA,
        title_en=TITLE_EN,
        body_ja=BODY_JA,
        body_en=BODY_EN,
        summary_ja="最初の版です。",
        summary_en="The first version.",
        status="published",
        published_at=PUBLISHED_AT,
        created_at=PUBLISHED_AT,
        updated_at=PUBLISHED_AT,
    )


def remove_version_one(apps, schema_editor):
    TermsVersion = apps.get_model("terms", "TermsVersion")
    TermsVersion.objects.filter(number=1, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("terms", "0001_initial")]

    operations = [migrations.RunPython(create_version_one, remove_version_one)]
