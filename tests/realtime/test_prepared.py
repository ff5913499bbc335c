import pytest
from django.contrib.auth.models import User
from django.db.models import Count

from chat.exports.models import TranscriptExport
from chat.models import Membership, Room
from realtime import prepared
from realtime.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(ada, grace):
    general = Room.objects.create(name="General", slug="general")
    secret = Room.objects.create(name="Secret", slug="secret", kind=Room.Kind.PRIVATE)
    Membership.objects.create(room=secret, user=ada)
    return general, secret


def rooms_of(user_id):
    return Room.objects.filter(kind=Room.Kind.PUBLIC) | Room.objects.filter(members__id=user_id)


def test_a_prepared_query_answers_like_its_queryset_for_each_value(ada, grace, rooms):
    by_slug = PreparedQuery(
        lambda user_id, slug: rooms_of(user_id).filter(slug=slug), user_id=int, slug=str
    )
    general, secret = rooms
    assert by_slug(user_id=ada.pk, slug="secret") == [secret]
    assert by_slug(user_id=grace.pk, slug="secret") == []
    assert by_slug(user_id=grace.pk, slug="general") == [general]
    [found] = by_slug(user_id=ada.pk, slug="general")
    assert (found.name, found.kind, found.created_at) == (
        general.name,
        general.kind,
        general.created_at,
    )
    assert len(by_slug.compiled) == 1  # built and compiled once


def test_values_list_rows_come_as_tuples_or_single_values(ada, grace, rooms):
    general, secret = rooms
    ids = PreparedQuery(
        lambda user_id: rooms_of(user_id).order_by("id").values_list("id", flat=True),
        user_id=int,
    )
    assert ids(user_id=ada.pk) == [general.id, secret.id]
    assert ids(user_id=grace.pk) == [general.id]
    counted = PreparedQuery(
        lambda slug: (
            Room.objects.filter(slug=slug)
            .annotate(people=Count("members"))
            .values_list("slug", "people")
        ),
        slug=str,
    )
    assert counted(slug="secret") == [("secret", 1)]


def test_values_that_are_not_of_the_declared_kind_are_refused(ada, rooms):
    by_slug = PreparedQuery(lambda slug: Room.objects.filter(slug=slug), slug=str)
    with pytest.raises(TypeError, match="slug must be a str"):
        by_slug(slug=None)
    with pytest.raises(TypeError, match="expected the values"):
        by_slug(name="general")


def test_a_placeholder_that_is_no_parameter_is_refused(rooms):
    ignores_it = PreparedQuery(lambda slug: Room.objects.all(), slug=str)
    with pytest.raises(ValueError, match="did not become parameters"):
        ignores_it(slug="general")


@pytest.mark.parametrize(
    "build",
    [
        lambda slug: Room.objects.filter(slug=slug).annotate(people=Count("members")),
        lambda slug: Room.objects.filter(slug=slug).only("name"),
        lambda slug: Room.objects.filter(slug=slug).values("id"),
        lambda slug: (
            Room.objects.filter(slug=slug).annotate(n=Count("members")).values_list("n", "slug")
        ),
    ],
    ids=["annotated instances", "deferred fields", "values", "annotation before a field"],
)
def test_shapes_whose_rows_would_come_back_wrong_are_refused(build, rooms):
    with pytest.raises(TypeError):
        PreparedQuery(build, slug=str)(slug="general")


def test_a_query_that_can_match_nothing_answers_nothing(rooms):
    nothing = PreparedQuery(lambda slug: Room.objects.none().filter(slug=slug), slug=str)
    assert nothing(slug="general") == []


def test_an_integer_of_a_narrow_field_is_a_placeholder_like_any_other(ada, rooms):
    """Django compiles a value out of a column's range to "matches nothing": placeholders
    fit every integer field (here a positive one; on PostgreSQL, auth_user's 32-bit ids)."""
    general, _ = rooms
    export = TranscriptExport.objects.create(
        room=general, requested_by=ada, format="json", progress=42, message_count=7
    )
    at = PreparedQuery(
        lambda progress, count: TranscriptExport.objects.filter(
            progress=progress, message_count=count
        ),
        progress=int,
        count=int,
    )
    assert at(progress=42, count=7) == [export]
    assert at(progress=43, count=7) == []
    by_pk = PreparedQuery(
        lambda pk: User.objects.filter(pk=pk).values_list("username", flat=True), pk=int
    )
    assert by_pk(pk=ada.pk) == ["ada"]


def test_a_constant_equal_to_a_placeholder_stays_a_constant(rooms):
    general, _ = rooms
    first_value = 30_000  # the first build's value of a lone int placeholder
    assert prepared.placeholders({"pk": int}, 0) == {"pk": first_value}
    pk_or_constant = PreparedQuery(
        lambda pk: Room.objects.filter(pk=pk) | Room.objects.filter(pk=first_value), pk=int
    )
    assert pk_or_constant(pk=general.pk) == [general]
    assert pk_or_constant.compiled["default"].slots == ("pk", None)


@pytest.mark.parametrize(
    "build",
    [
        lambda slug: Room.objects.filter(slug=slug.lower()),
        lambda slug: Room.objects.filter(slug=slug.strip()),
    ],
    ids=["lowercased", "stripped"],
)
def test_a_value_the_build_changes_cannot_be_a_placeholder(build, rooms):
    with pytest.raises(ValueError, match="differs between the two builds"):
        PreparedQuery(build, slug=str)(slug="general")


def test_a_value_the_lookup_changes_cannot_be_a_placeholder(rooms):
    starting = PreparedQuery(lambda slug: Room.objects.filter(slug__startswith=slug), slug=str)
    with pytest.raises(ValueError, match="differs between the two builds"):
        starting(slug="gen")


def test_a_value_out_of_its_columns_range_in_one_build_only_is_refused(rooms):
    """Shifted below zero, the first build's value is out of a positive column's range: Django
    compiles it to "matches nothing", the second build to SQL."""
    shifted = PreparedQuery(lambda n: TranscriptExport.objects.filter(progress=n - 30_500), n=int)
    with pytest.raises(ValueError, match="SQL depends on the placeholders' values"):
        shifted(n=30_600)


def test_a_value_written_into_the_sql_cannot_be_a_placeholder(rooms):
    first = PreparedQuery(lambda count: Room.objects.order_by("pk")[:count], count=int)
    with pytest.raises(ValueError, match="SQL depends on the placeholders' values"):
        first(count=1)


def test_a_forgotten_query_is_built_again_from_what_it_builds_on(rooms):
    _, secret = rooms
    kind = {"value": Room.Kind.PUBLIC}
    of_kind = PreparedQuery(
        lambda slug: Room.objects.filter(slug=slug, kind=kind["value"]), slug=str
    )
    assert of_kind(slug="secret") == []
    kind["value"] = Room.Kind.PRIVATE
    assert of_kind(slug="secret") == []  # still the query first built
    of_kind.forget()
    assert of_kind(slug="secret") == [secret]
