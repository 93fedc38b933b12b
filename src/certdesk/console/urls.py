from __future__ import annotations

from django.urls import path

from certdesk.console import views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:number>/", views.account_detail, name="account"),
    path("accounts/<int:number>/disable/", views.account_disable_view, name="account_disable"),
    path("accounts/<int:number>/enable/", views.account_enable_view, name="account_enable"),
    path(
        "accounts/<int:number>/users/<int:user_id>/disable/",
        views.user_disable_view,
        name="user_disable",
    ),
    path(
        "accounts/<int:number>/users/<int:user_id>/enable/",
        views.user_enable_view,
        name="user_enable",
    ),
    path("terms/", views.terms_list, name="terms"),
    path("terms/new/", views.terms_create, name="terms_create"),
    path("terms/<int:number>/", views.terms_detail, name="terms_detail"),
    path("terms/<int:number>/edit/", views.terms_edit, name="terms_edit"),
    path("terms/<int:number>/publish/", views.terms_publish_view, name="terms_publish"),
    path("terms/<int:number>/notice/", views.terms_notice_view, name="terms_notice"),
    path("terms/<int:number>/withdraw/", views.terms_withdraw_view, name="terms_withdraw"),
    path("terms/<int:number>/delete/", views.terms_delete_view, name="terms_delete"),
    path("audit/", views.audit, name="audit"),
    path("audit/verify/", views.audit_verify_view, name="audit_verify"),
    path("organizations/", views.organizations, name="organizations"),
    path("organizations/<int:organization_id>/", views.organization_detail, name="organization"),
    path(
        "organizations/<int:organization_id>/verify/",
        views.organization_verify_view,
        name="organization_verify",
    ),
    path(
        "organizations/<int:organization_id>/reject/",
        views.organization_reject_view,
        name="organization_reject",
    ),
    path("products/", views.products, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_edit, name="product"),
    path("applications/", views.applications, name="applications"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path(
        "applications/<int:application_id>/decide/",
        views.application_decide_view,
        name="application_decide",
    ),
]
