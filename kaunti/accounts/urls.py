from django.urls import path

from kaunti.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/sign-up/", views.sign_up, name="sign_up"),
    path("account/sign-in/", views.sign_in, name="sign_in"),
    path("account/code/", views.enter_code, name="enter_code"),
    path("account/code/resend/", views.resend_code, name="resend_code"),
    path("account/sign-out/", views.sign_out, name="sign_out"),
    path("account/", views.my_account, name="my_account"),
    path("language/", views.switch_language, name="switch_language"),
    path("staff/sign-in/", views.staff_sign_in, name="staff_sign_in"),
    path("staff/sign-in/code/", views.staff_code, name="staff_code"),
    path("staff/", views.staff_home, name="staff_home"),
]
