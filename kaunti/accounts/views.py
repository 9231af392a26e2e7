"""Sign-in pages for citizens (phone and SMS code) and staff (password and TOTP), the
account page, the staff home and the language switch. Thin: forms check shape, services act."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaunti.accounts import selectors, services
from kaunti.accounts.forms import (
    CodeForm,
    LanguageForm,
    ProfileForm,
    SignInForm,
    SignUpForm,
    StaffPasswordForm,
    StaffTokenForm,
)
from kaunti.accounts.models import CodePurpose, User
from kaunti.accounts.permissions import has_permission, require_permission
from kaunti.core.identifiers import mask_phone
from kaunti.core.menu import citizen_links, staff_links

PENDING_CODE = "kaunti_pending_code"
PENDING_STAFF = "kaunti_pending_staff"
STAFF_STEP_SECONDS = 300


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
    )
    return response


def _start_code_step(
    request: HttpRequest, *, purpose: CodePurpose, phone: str, extra: dict[str, Any]
) -> HttpResponse:
    record = services.request_sign_in_code(
        phone=phone,
        purpose=purpose,
        ip_address=_client_ip(request),
        language=translation.get_language() or "en",
    )
    request.session[PENDING_CODE] = {
        "id": str(record.public_id),
        "purpose": str(purpose),
        "phone": record.phone,
        **extra,
    }
    return redirect("accounts:enter_code")


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _start_code_step(
                request,
                purpose=CodePurpose.SIGN_UP,
                phone=form.cleaned_data["phone"],
                extra={
                    "full_name": form.cleaned_data["full_name"],
                    "notice": settings.PRIVACY_NOTICE_VERSION,
                },
            )
        except services.SignInCodeError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "accounts/sign_up.html",
        {"form": form, "notice_version": settings.PRIVACY_NOTICE_VERSION},
    )


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _start_code_step(
                request, purpose=CodePurpose.SIGN_IN, phone=form.cleaned_data["phone"], extra={}
            )
        except services.SignInCodeError as exc:
            form.add_error(None, str(exc))
    return render(request, "accounts/sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_CODE)
    if not pending:
        return redirect("accounts:sign_in")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            verified = services.verify_sign_in_code(
                code_id=pending["id"], code=form.cleaned_data["code"]
            )
            if verified.purpose == CodePurpose.SIGN_UP:
                user = services.register_citizen(
                    verified_code=verified,
                    full_name=pending["full_name"],
                    language=translation.get_language() or "en",
                    notice_version=pending["notice"],
                )
            else:
                user = services.sign_in_citizen(verified_code=verified)
        except services.SignInCodeError as exc:
            form.add_error("code", str(exc))
        else:
            del request.session[PENDING_CODE]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("You are signed in."))
            return _remember_language(redirect("accounts:my_account"), user.preferred_language)
    context = {
        "form": form,
        "masked_phone": mask_phone(pending["phone"]),
        "purpose": pending["purpose"],
    }
    return render(request, "accounts/enter_code.html", context)


@require_POST
def resend_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_CODE)
    if not pending:
        return redirect("accounts:sign_in")
    try:
        extra = {
            key: value for key, value in pending.items() if key not in ("id", "purpose", "phone")
        }
        _start_code_step(
            request, purpose=CodePurpose(pending["purpose"]), phone=pending["phone"], extra=extra
        )
    except services.SignInCodeError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("We sent a new code. Earlier codes no longer work."))
    return redirect("accounts:enter_code")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("home")


@require_http_methods(["GET", "POST"])
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    """Step one: username and password (failures count towards the lockout)."""
    form = StaffPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None or not isinstance(user, User) or not user.is_county_staff:
            form.add_error(None, _("The username or password is not right."))
        elif not TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
            form.add_error(
                None,
                _(
                    "Your account has no authenticator app yet. Ask the ICT Directorate to set one up."
                ),
            )
        else:
            request.session[PENDING_STAFF] = {
                "user": user.pk,
                "at": timezone.now().timestamp(),
                "next": _safe_next(request, ""),
            }
            return redirect("accounts:staff_code")
    return render(
        request, "accounts/staff_sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_http_methods(["GET", "POST"])
def staff_code(request: HttpRequest) -> HttpResponse:
    """Step two: the TOTP code; only then is the session signed in."""
    pending = request.session.get(PENDING_STAFF)
    if not pending or timezone.now().timestamp() - pending["at"] > STAFF_STEP_SECONDS:
        request.session.pop(PENDING_STAFF, None)
        return redirect("accounts:staff_sign_in")
    user = selectors.get_active_staff(user_id=pending["user"])
    if user is None:
        return redirect("accounts:staff_sign_in")
    form = StaffTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = selectors.match_totp_device(user=user, token=form.cleaned_data["token"])
        if device is None:
            form.add_error(
                "token", _("That code is not right. Wait for a new code in the app and try again.")
            )
        else:
            next_url = pending.get("next") or reverse("accounts:staff_home")
            del request.session[PENDING_STAFF]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            services.record_staff_sign_in(user=user, ip_address=_client_ip(request))
            return _remember_language(HttpResponseRedirect(next_url), user.preferred_language)
    return render(request, "accounts/staff_code.html", {"form": form})


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Shown (HTTP 429) while django-axes holds an account locked after repeated failures."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


@login_required
@require_http_methods(["GET", "POST"])
def my_account(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    initial = {
        "full_name": user.full_name,
        "national_id": user.national_id,
        "kra_pin": user.kra_pin,
        "email": user.email,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user=user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("accounts:my_account")
    context = {
        "form": form,
        "consent": selectors.get_current_consent(user=user),
        "masked_phone": mask_phone(user.phone) if user.phone else "",
        "links": citizen_links() if user.is_citizen else [],
    }
    return render(request, "accounts/my_account.html", context)


@login_required(login_url="accounts:staff_sign_in")
def staff_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not getattr(user, "is_verified", lambda: False)():
        raise PermissionDenied("staff pages need a second factor")
    require_permission(user, "accounts.view_staff_home")
    assert isinstance(user, User)
    links = [
        link
        for link in staff_links()
        if (link.allowed(user) if link.allowed else has_permission(user, link.action))
    ]
    context = {"assignments": selectors.list_role_assignments(user=user), "links": links}
    return render(request, "accounts/staff_home.html", context)


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Change the page language; remembered in a cookie and, when signed in, on the account."""
    form = LanguageForm(request.POST)
    target = _safe_next(request, reverse("home"))
    if not form.is_valid():
        return redirect(target)
    language = form.cleaned_data["language"]
    if request.user.is_authenticated and isinstance(request.user, User):
        services.set_preferred_language(user=request.user, language=language)
    return _remember_language(redirect(target), language)
