from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from demo import actions
from realtime.http import client_address
from realtime.validation import Invalid


@require_POST
def guest_sign_in(request: HttpRequest) -> HttpResponse:
    """One click: a new guest account, signed in (DEMO_MODE only)."""
    if not settings.DEMO_MODE:
        raise Http404("No guest sign-in here.")
    try:
        guest = actions.guest_create(address=client_address(request))
    except Invalid as error:
        context = {"form": AuthenticationForm(request), "guest_error": str(error)}
        return render(request, "registration/login.html", context, status=429)
    login(request, guest, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(settings.LOGIN_REDIRECT_URL)
