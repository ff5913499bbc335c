import asyncio
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import actions
from accounts import queries as people
from chat.models import Message, Room
from chat.queries import rooms as chat
from demo import actions as demo
from demo.models import Use
from realtime.http import AuthedHttpRequest, client_address
from realtime.validation import Invalid


def sign_in(request: HttpRequest) -> HttpResponseBase:
    """Django's sign-in view; the demo accounts' password is shown only where `make run`
    loads them (DEBUG), never on a production sign-in page; a public demo (DEMO_MODE) shows
    the guest button instead. A page whose socket was closed as signed out comes here; a tab
    of a session that is still signed in (e.g. the one that changed the password) goes
    straight back."""
    context = {"demo_logins": settings.DEBUG and not settings.DEMO_MODE}
    view = LoginView.as_view(extra_context=context, redirect_authenticated_user=True)
    return view(request)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    address = client_address(request)
    if request.method == "POST" and form.is_valid():
        try:
            demo.use_check(kind=Use.Kind.SIGNUP, user=None, address=address)
        except Invalid as error:
            form.add_error(None, str(error))
            return render(request, "accounts/signup.html", {"form": form}, status=429)
        user = form.save()
        demo.use_record(kind=Use.Kind.SIGNUP, user=user, address=address)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


def concurrently[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run a database read in a worker thread of its own (with its own connection), so that
    several independent reads of one request overlap instead of queueing on one thread."""
    run: Callable[P, Awaitable[R]] = database_sync_to_async(func, thread_sensitive=False)
    return run


def person_message_count(*, viewer: User, person: User) -> int:
    """How many of `person`'s messages `viewer` could read."""
    return Message.objects.filter(
        room__in=chat.rooms_readable_by(user=viewer), author=person, deleted_at__isnull=True
    ).count()


def person_recent_rooms(*, viewer: User, person: User) -> list[Room]:
    """Rooms `person` talks in that `viewer` may read (never another person's private ones)."""
    return list(
        chat.rooms_readable_by(user=viewer)
        .filter(messages__author=person)
        .exclude(kind=Room.Kind.DIRECT)
        .distinct()
        .order_by("name")[:10]
    )


@login_required
@require_GET
async def profile(request: HttpRequest, username: str) -> HttpResponse:
    """Who is viewing -> may they see this person -> load the profile -> render."""
    viewer = await request.auser()
    assert isinstance(viewer, User)  # login_required
    person = await database_sync_to_async(people.person_get)(username=username)
    # Someone who blocked the viewer is, to the viewer, not there at all.
    if person is None or await database_sync_to_async(people.has_blocked)(
        blocker_id=person.pk, blocked_id=viewer.pk
    ):
        raise Http404("No such person.")
    # Independent reads, awaited together.
    message_count, recent_rooms, blocked = await asyncio.gather(
        concurrently(person_message_count)(viewer=viewer, person=person),
        concurrently(person_recent_rooms)(viewer=viewer, person=person),
        concurrently(people.has_blocked)(blocker_id=viewer.pk, blocked_id=person.pk),
    )
    context = {
        "person": person,
        "is_self": person.pk == viewer.pk,
        "message_count": message_count,
        "recent_rooms": recent_rooms,
        "blocked": blocked,
    }
    # Rendering runs the context processors, which read the database too.
    return await sync_to_async(render)(request, "accounts/profile.html", context)


def _person_or_404(username: str) -> User:
    person = people.person_get(username=username)
    if person is None:
        raise Http404("No such person.")
    return person


@login_required
@require_POST
def block(request: AuthedHttpRequest, username: str) -> HttpResponse:
    person = _person_or_404(username)
    try:
        actions.block(blocker=request.user, blocked=person)
    except Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect("profile", person.username)


@login_required
@require_POST
def unblock(request: AuthedHttpRequest, username: str) -> HttpResponse:
    person = _person_or_404(username)
    actions.unblock(blocker=request.user, blocked=person)
    return redirect("profile", person.username)
