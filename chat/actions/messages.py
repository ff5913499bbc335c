"""Writes of messages: posting, editing, deleting. Each action checks who may do it, changes
state atomically and schedules its events on commit."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from accounts import queries as people
from chat import events, logic
from chat.actions.rooms import room_label
from chat.logic import NOT_A_MEMBER, Forbidden, excerpt, mentioned_names
from chat.models import Attachment, LinkPreview, Message, MessageChange, Room
from chat.previews.actions import link_preview_schedule, link_previews_remove
from chat.previews.logic import first_link
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.stored import files_delete
from notifications.actions import notify
from notifications.models import Notification
from notifications.queries import has_unread_about, users_named
from realtime.validation import Invalid

logger = logging.getLogger(__name__)

# Errors that say the database cannot be reached, not that one post is wrong.
DATABASE_DOWN = (OperationalError, InterfaceError)


def _check_may_post(*, room: Room, author: User) -> None:
    if room.is_public:  # a room's kind never changes, and public rooms are everyone's
        return
    if not room_queries.room_is_readable(user=author, room_id=room.id):
        raise Forbidden(NOT_A_MEMBER)
    if room.is_direct:
        others = [member.pk for member in room.members.all() if member.pk != author.pk]
        if others and people.blockers_among(user_id=author.pk, candidate_ids=others):
            raise Forbidden("You cannot send messages in this conversation.")
        if others and people.blockers_among(user_id=others[0], candidate_ids=[author.pk]):
            raise Forbidden("You blocked this person; unblock them to send messages.")


def message_post(*, room: Room, author: User, body: str, client_id: uuid.UUID | None) -> Message:
    """Save a message and push it to the room on commit; notify the people it mentions who
    may read the room and have not blocked the author, or, in a direct conversation, the
    other member.

    A send retried with the same client id returns the message saved the first time and
    pushes it to the room again, nothing else: the retry may come because the first push never
    left (its server stopped as the message committed), and pages show a message id once. The
    insert itself finds that out (the client id is unique per author), so a new message, by
    far the usual case, costs no lookup first.
    """
    message, _ = message_insert(room=room, author=author, body=body, client_id=client_id)
    return message


def message_insert(
    *, room: Room, author: User, body: str, client_id: uuid.UUID | None
) -> tuple[Message, bool]:
    """message_post's work; also says whether the message is new (False: a retry)."""
    draft = _draft(Post(room=room, author=author, body=body, client_id=client_id))
    try:
        with transaction.atomic():
            message = _write(draft)
    except IntegrityError:
        if client_id is None:
            raise
        # Saved before (a retry, or another socket racing with the same client id): the
        # transaction and its pushes are undone, and the first message is the answer.
        saved = Message.objects.get(author=author, client_id=client_id)
        transaction.on_commit(partial(events.message_posted_again, saved), robust=True)
        return saved, False
    return message, True


@dataclass(frozen=True)
class Post:
    """One message to save, as a socket's chat.send asked for it (already validated)."""

    room: Room
    author: User
    body: str
    client_id: uuid.UUID | None


@dataclass(frozen=True)
class _Draft:
    """A post that passed its checks, with who hears of it: all that is left is to write."""

    post: Post
    mentioned: list[User]
    verb: Notification.Verb
    recipients: list[User]


def messages_post(*, posts: Sequence[Post]) -> list[Message | Exception]:
    """Save several posts in one transaction (a group commit, chat.actions.batching): one
    answer per post, in order, each the saved message or why it was not saved.

    Each post is checked and pushed as message_post would (one push per message, on commit);
    a post refused by its checks (Invalid) gets its error and the others are saved. A client id
    saved before (pages resend what was not acknowledged when they reconnect) fails the
    insert: the messages saved under the batch's client ids are then looked up, once, and
    the batch is written again without them, each resend getting its first message, pushed
    again. A post whose write fails anyway (anything else the database refuses) undoes the
    transaction, and the posts are saved one by one, as message_post saves them, so that it
    alone gets its error. A database that is down raises for all: nothing was saved.
    """
    try:
        try:
            return _messages_insert_together(posts, saved_before={})
        except IntegrityError:
            return _messages_insert_together(posts, saved_before=_saved_before(posts))
    except DATABASE_DOWN:
        raise
    except Exception:
        logger.info("A batch of %d messages is saved again one by one", len(posts), exc_info=True)
    return [_message_post_alone(post) for post in posts]


def _messages_insert_together(
    posts: Sequence[Post], *, saved_before: dict[tuple[int, uuid.UUID], Message]
) -> list[Message | Exception]:
    # A client id sent twice in one batch (a page resending before its answer came): the
    # second gets the first's answer.
    first_of: dict[tuple[int, uuid.UUID], int] = {}
    answer_of: list[int] = []  # for each post, the post whose answer it gets
    drafts: dict[int, _Draft] = {}
    answers: dict[int, Message | Exception] = {}
    again: list[Message] = []
    for n, post in enumerate(posts):
        key = (post.author.pk, post.client_id) if post.client_id is not None else None
        if key is not None and key in first_of:
            answer_of.append(first_of[key])
            continue
        if key is not None:
            first_of[key] = n
        answer_of.append(n)
        try:
            drafts[n] = _draft(post)
        except Invalid as error:  # nothing of it is written: the others go on
            answers[n] = error
            continue
        if key in saved_before:
            # A resend: its first message is the answer, pushed again (message_insert).
            del drafts[n]
            answers[n] = saved_before[key]
            again.append(saved_before[key])
    drafts = _direct_once(drafts)
    with transaction.atomic():
        # One INSERT for all: ids follow the order of the posts.
        saved = Message.objects.bulk_create([_unsaved(draft) for draft in drafts.values()])
        for (n, draft), message in zip(drafts.items(), saved, strict=True):
            _saved_then(draft, message)
            answers[n] = message
        for message in again:
            transaction.on_commit(partial(events.message_posted_again, message), robust=True)
    return [answers[n] for n in answer_of]


def _saved_before(posts: Sequence[Post]) -> dict[tuple[int, uuid.UUID], Message]:
    keys = {(post.author.pk, post.client_id) for post in posts if post.client_id is not None}
    return message_queries.messages_by_client_ids(keys=keys)


def _direct_once(drafts: dict[int, _Draft]) -> dict[int, _Draft]:
    """One notification per direct conversation and recipient in a batch, as posting one
    message at a time gives (_direct_recipients): every draft was read before any of the
    batch's notifications were written, so only the first of a conversation keeps them."""
    notified: set[tuple[int, int]] = set()
    kept: dict[int, _Draft] = {}
    for n, draft in drafts.items():
        if draft.verb == Notification.Verb.DIRECT:
            room_id = draft.post.room.pk
            recipients = [user for user in draft.recipients if (room_id, user.pk) not in notified]
            notified.update((room_id, user.pk) for user in draft.recipients)
            draft = replace(draft, recipients=recipients)
        kept[n] = draft
    return kept


def _message_post_alone(post: Post) -> Message | Exception:
    try:
        message, _ = message_insert(
            room=post.room, author=post.author, body=post.body, client_id=post.client_id
        )
    except Exception as error:
        return error
    return message


def _draft(post: Post) -> _Draft:
    """The checks and reads of a post, before anything is written."""
    room, author = post.room, post.author
    _check_may_post(room=room, author=author)
    mentioned = users_named(mentioned_names(post.body))
    if room.is_direct:
        # Addressed to the other member already: they hear of it as a direct message.
        verb, recipients = Notification.Verb.DIRECT, _direct_recipients(room, author)
    else:
        verb, recipients = Notification.Verb.MENTION, _mention_recipients(room, author, mentioned)
    return _Draft(post=post, mentioned=mentioned, verb=verb, recipients=recipients)


def _write(draft: _Draft) -> Message:
    """In the caller's transaction: the message, its push on commit, its preview and the
    notifications of it."""
    message = _unsaved(draft)
    message.save(force_insert=True)
    _saved_then(draft, message)
    return message


def _unsaved(draft: _Draft) -> Message:
    post = draft.post
    return Message(
        room=post.room,
        author=post.author,
        body=post.body,
        client_id=post.client_id,
        mentions=[user.username for user in draft.mentioned],
    )


def _saved_then(draft: _Draft, message: Message) -> None:
    """In the message's transaction, once it is inserted: its push on commit, its preview and
    the notifications of it."""
    post = draft.post
    transaction.on_commit(partial(events.message_posted, message), robust=True)
    # Known here, so the push renders without asking: no attachment (uploads are
    # attachment_post's), and the preview just scheduled, if the text has a link.
    _related_cache_set(message, "attachment", None)
    _related_cache_set(message, "link_preview", link_preview_schedule(message))
    notify(
        recipients=draft.recipients,
        actor=post.author,
        verb=draft.verb,
        target_label=room_label(post.room),
        target_url=message.get_absolute_url(),
        excerpt=excerpt(post.body),
    )


def _mention_recipients(room: Room, author: User, mentioned: list[User]) -> list[User]:
    """The people mentioned who may read the room and have not blocked the author."""
    if not mentioned:  # most messages: no query to build
        return []
    blockers = people.blockers_among(user_id=author.pk, candidate_ids=[u.pk for u in mentioned])
    return room_queries.readers_among(
        room=room, users=[user for user in mentioned if user.pk not in blockers]
    )


def _direct_recipients(room: Room, author: User) -> list[User]:
    """The other member of a direct conversation, unless a notification of it is still
    unread for them: one toast and one count on the bell per conversation, not per message
    (the room list counts the messages)."""
    others = [member for member in room.members.all() if member.pk != author.pk]
    return [
        other
        for other in others
        if not has_unread_about(
            user_id=other.pk,
            verb=Notification.Verb.DIRECT,
            url_prefix=room.get_absolute_url() + "#",
        )
    ]


def message_edit(*, message: Message, editor: User, body: str) -> Message:
    """Change the text of one's own message; everyone in the room sees it, marked edited."""
    if message.deleted_at is not None:
        raise Invalid("That message was deleted.")
    if not logic.may_edit(author_id=message.author_id, editor_id=editor.pk):
        raise Forbidden("You can only edit your own messages.")
    if not room_queries.room_is_readable(user=editor, room_id=message.room_id):
        raise Forbidden(NOT_A_MEMBER)
    if body == message.body:
        return message
    message.body = body
    # Mentions are linked again; editing does not notify anyone a second time.
    message.mentions = [user.username for user in users_named(mentioned_names(body))]
    message.edited_at = timezone.now()
    with transaction.atomic():
        _save_change(message, MessageChange.Kind.EDITED, ["body", "mentions", "edited_at"])
        _link_preview_follow(message)
    return message


def _link_preview_follow(message: Message) -> None:
    """In an edit's transaction: the preview shows the edited text's first link. The same link
    keeps its preview; another link gets a new one, fetched on commit; none, no preview."""
    current = LinkPreview.objects.filter(message=message).first()
    if current is not None and current.url == first_link(message.body):
        return
    if current is not None:
        link_previews_remove(message)
    preview = link_preview_schedule(message)
    # The edit's push renders the message with whichever preview it has now.
    _related_cache_set(message, "link_preview", preview)


def message_delete(*, message: Message, deleter: User) -> Message:
    """Remove a message's text (one's own, or anyone's for staff); its place stays, marked
    deleted, for everyone in the room."""
    if message.deleted_at is not None:
        return message
    if not logic.may_delete(
        author_id=message.author_id, deleter_id=deleter.pk, deleter_is_staff=deleter.is_staff
    ):
        raise Forbidden("You can only delete your own messages.")
    message.body = ""
    message.mentions = []
    message.deleted_at = timezone.now()
    with transaction.atomic():
        _save_change(message, MessageChange.Kind.DELETED, ["body", "mentions", "deleted_at"])
        # What was deleted goes with the text: its image and its link's card, files included.
        link_previews_remove(message)
        attachments = Attachment.objects.filter(message=message)
        files = [name for a in attachments for name in (a.original, a.thumbnail) if name]
        attachments.delete()
        transaction.on_commit(partial(files_delete, files), robust=True)
    _related_cache_set(message, "link_preview", None)
    _related_cache_set(message, "attachment", None)
    return message


def _save_change(message: Message, kind: MessageChange.Kind, fields: list[str]) -> None:
    with transaction.atomic():
        message.save(update_fields=fields)
        change = MessageChange.objects.create(room_id=message.room_id, message=message, kind=kind)
        transaction.on_commit(partial(events.message_changed, message, change.id), robust=True)


def _related_cache_set(message: Message, name: str, value: LinkPreview | Attachment | None) -> None:
    """What `message.<name>` (a reverse one-to-one) returns from now on, without a query; None
    makes it raise DoesNotExist, which templates show as nothing."""
    Message._meta.get_field(name).set_cached_value(message, value)  # type: ignore[union-attr]
