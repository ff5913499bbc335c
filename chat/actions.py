"""Writes. Each action checks who may do it, changes state atomically and schedules its
events on commit."""

import uuid
from copy import copy
from functools import partial
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.tasks import Task
from django.utils import timezone

from accounts import queries as people
from chat import events, logic, queries, tasks
from chat.images import THUMBNAIL_EXTENSION, DecodedImage, Thumbnail
from chat.logic import IMAGE_EXTENSIONS, Invalid, PageMetadata, first_link
from chat.models import (
    Attachment,
    Invitation,
    LinkPreview,
    Membership,
    Message,
    MessageChange,
    ReadCursor,
    Room,
    TranscriptExport,
)
from notifications.actions import notifications_mark_read_about, notify
from notifications.logic import excerpt, mentioned_names
from notifications.models import Notification
from notifications.queries import has_unread_about, users_named


class Forbidden(Invalid):
    """The person may see the thing but not do this to it."""


NOT_A_MEMBER = "You are not a member of this room any more."


def room_create(*, name: str, slug: str, created_by: User, private: bool = False) -> Room:
    """A public room (announced to every chat page) or a private one, whose only member is
    its creator until they invite others."""
    with transaction.atomic():
        if queries.room_name_taken(name=name, slug=slug):
            raise Invalid(f"A room called “{name}” already exists.")
        kind = Room.Kind.PRIVATE if private else Room.Kind.PUBLIC
        room = Room.objects.create(name=name, slug=slug, kind=kind, created_by=created_by)
        if private:
            Membership.objects.create(room=room, user=created_by)
        transaction.on_commit(partial(events.room_created, room), robust=True)
    return room


def direct_open(*, user: User, other: User) -> Room:
    """The direct conversation between the two, started if there is none yet."""
    if user.pk == other.pk:
        raise Invalid("You cannot send direct messages to yourself.")
    if people.has_blocked(blocker_id=user.pk, blocked_id=other.pk):
        raise Forbidden(f"You blocked {other.username}; unblock them to send messages.")
    if people.has_blocked(blocker_id=other.pk, blocked_id=user.pk):
        raise Forbidden(f"You cannot send direct messages to {other.username}.")
    slug = logic.direct_slug(user.pk, other.pk)
    existing = queries.room_get(slug=slug)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            room = Room.objects.create(name=slug, slug=slug, kind=Room.Kind.DIRECT, created_by=user)
            Membership.objects.bulk_create(
                [Membership(room=room, user=user), Membership(room=room, user=other)]
            )
            transaction.on_commit(partial(events.room_added, room, [user, other]), robust=True)
    except IntegrityError:
        # Both opened it at once; the other request made it.
        return Room.objects.get(slug=slug)
    return room


def _check_may_post(*, room: Room, author: User) -> None:
    if room.is_public:  # a room's kind never changes, and public rooms are everyone's
        return
    if not queries.room_is_readable(user=author, room_id=room.id):
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
    message, _ = _message_insert(room=room, author=author, body=body, client_id=client_id)
    return message


def _message_insert(
    *, room: Room, author: User, body: str, client_id: uuid.UUID | None
) -> tuple[Message, bool]:
    """message_post's work; also says whether the message is new (False: a retry)."""
    _check_may_post(room=room, author=author)
    mentioned = users_named(mentioned_names(body))
    if room.is_direct:
        # Addressed to the other member already: they hear of it as a direct message.
        verb, recipients = Notification.Verb.DIRECT, _direct_recipients(room, author)
    else:
        verb, recipients = Notification.Verb.MENTION, _mention_recipients(room, author, mentioned)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                author=author,
                body=body,
                client_id=client_id,
                mentions=[user.username for user in mentioned],
            )
            transaction.on_commit(partial(events.message_posted, message), robust=True)
            # Known here, so the push renders without asking: no attachment (uploads are
            # attachment_post's), and the preview just scheduled, if the text has a link.
            _related_cache_set(message, "attachment", None)
            _related_cache_set(message, "link_preview", link_preview_schedule(message))
            notify(
                recipients=recipients,
                actor=author,
                verb=verb,
                target_label=room_label(room),
                target_url=message.get_absolute_url(),
                excerpt=excerpt(body),
            )
    except IntegrityError:
        if client_id is None:
            raise
        # Saved before (a retry, or another socket racing with the same client id): the
        # transaction and its pushes are undone, and the first message is the answer.
        saved = Message.objects.get(author=author, client_id=client_id)
        transaction.on_commit(partial(events.message_posted_again, saved), robust=True)
        return saved, False
    return message, True


def _mention_recipients(room: Room, author: User, mentioned: list[User]) -> list[User]:
    """The people mentioned who may read the room and have not blocked the author."""
    blockers = people.blockers_among(user_id=author.pk, candidate_ids=[u.pk for u in mentioned])
    return queries.readers_among(
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


def room_label(room: Room) -> str:
    return "a direct message" if room.is_direct else f"#{room.name}"


def message_edit(*, message: Message, editor: User, body: str) -> Message:
    """Change the text of one's own message; everyone in the room sees it, marked edited."""
    if message.deleted_at is not None:
        raise Invalid("That message was deleted.")
    if not logic.may_edit(author_id=message.author_id, editor_id=editor.pk):
        raise Forbidden("You can only edit your own messages.")
    if not queries.room_is_readable(user=editor, room_id=message.room_id):
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
        _link_previews_remove(message)
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
        _link_previews_remove(message)
        attachments = Attachment.objects.filter(message=message)
        files = [name for a in attachments for name in (a.original, a.thumbnail) if name]
        attachments.delete()
        transaction.on_commit(partial(_files_delete, files), robust=True)
    _related_cache_set(message, "link_preview", None)
    _related_cache_set(message, "attachment", None)
    return message


def _save_change(message: Message, kind: MessageChange.Kind, fields: list[str]) -> None:
    with transaction.atomic():
        message.save(update_fields=fields)
        change = MessageChange.objects.create(room_id=message.room_id, message=message, kind=kind)
        transaction.on_commit(partial(events.message_changed, message, change.id), robust=True)


def _link_previews_remove(message: Message) -> None:
    """In the caller's transaction. A fetch still running for the preview finds it gone and
    stores nothing (link_preview_store)."""
    previews = LinkPreview.objects.filter(message=message)
    images = [preview.image for preview in previews if preview.image]
    previews.delete()
    transaction.on_commit(partial(_files_delete, images), robust=True)


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _related_cache_set(message: Message, name: str, value: LinkPreview | Attachment | None) -> None:
    """What `message.<name>` (a reverse one-to-one) returns from now on, without a query; None
    makes it raise DoesNotExist, which templates show as nothing."""
    Message._meta.get_field(name).set_cached_value(message, value)  # type: ignore[union-attr]


def invitation_create(*, room: Room, inviter: User, invitee: User) -> Invitation:
    """Invite someone to a private room the inviter belongs to; they are notified."""
    if room.kind != Room.Kind.PRIVATE:
        raise Invalid("Only private rooms take invitations.")
    if not queries.is_member(user=inviter, room=room):
        raise Forbidden(NOT_A_MEMBER)
    if queries.is_member(user=invitee, room=room):
        raise Invalid(f"{invitee.username} is already a member.")
    if people.block_between(user_id=inviter.pk, other_id=invitee.pk):
        raise Forbidden(f"You cannot invite {invitee.username}.")
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(room=room, invitee=invitee, invited_by=inviter)
            notify(
                recipients=[invitee],
                actor=inviter,
                verb=Notification.Verb.INVITATION,
                target_label=f"#{room.name}",
                target_url=invitation.get_absolute_url(),
            )
    except IntegrityError:
        raise Invalid(f"{invitee.username} is already invited.") from None
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Room:
    if invitation.invitee_id != user.pk:
        raise Forbidden("That invitation is for someone else.")
    room = invitation.room
    with transaction.atomic():
        invitation.delete()
        _, joined = Membership.objects.get_or_create(room=room, user=user)
        if joined:
            transaction.on_commit(partial(events.room_added, room, [user]), robust=True)
    return room


def invitation_decline(*, invitation: Invitation, user: User) -> None:
    if invitation.invitee_id != user.pk:
        raise Forbidden("That invitation is for someone else.")
    invitation.delete()


def membership_end(*, room: Room, member: User, by: User) -> bool:
    """`member` leaves the private room (when `by` is them) or is removed by its creator or
    staff. Their open pages of the room stop receiving it at once. False if they were not a
    member."""
    if room.kind != Room.Kind.PRIVATE:
        raise Invalid("Only private rooms have members to leave or remove.")
    if not logic.may_remove_member(
        member_id=member.pk,
        remover_id=by.pk,
        owner_id=room.created_by_id,
        remover_is_staff=by.is_staff,
    ):
        raise Forbidden("Only the creator of the room can remove people.")
    with transaction.atomic():
        removed, _ = Membership.objects.filter(room=room, user=member).delete()
        if removed:
            transaction.on_commit(partial(events.access_ended, room, member.pk), robust=True)
    return bool(removed)


def room_mark_read(*, user: User, room: Room, up_to: int) -> int | None:
    """Move the user's read cursor in `room` forward to the newest message at or before
    `up_to`; never back. On a move, push the new state to the reader's tabs on commit.
    Returns the cursor, or None when the room has no message at or before `up_to`."""
    newest = (
        Message.objects.filter(room=room, id__lte=up_to)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is None:
        return None
    with transaction.atomic():
        moved = ReadCursor.objects.filter(user=user, room=room, last_read_id__lt=newest).update(
            last_read_id=newest, updated_at=timezone.now()
        )
        if not moved:
            try:
                with transaction.atomic():
                    _, moved = ReadCursor.objects.get_or_create(
                        user=user, room=room, defaults={"last_read_id": newest}
                    )
            except IntegrityError:
                # Another tab created it at the same moment; move it forward if still behind.
                moved = ReadCursor.objects.filter(
                    user=user, room=room, last_read_id__lt=newest
                ).update(last_read_id=newest, updated_at=timezone.now())
        if moved:
            transaction.on_commit(partial(events.read_cursor_moved, user, room.id), robust=True)
        if moved and room.is_direct:
            # Read there, so the toast and the bell's count for it are done with; the next
            # message after this one notifies again.
            notifications_mark_read_about(
                user=user, verb=Notification.Verb.DIRECT, url_prefix=room.get_absolute_url() + "#"
            )
    return queries.read_cursor_for(user_id=user.pk, room_id=room.id)


# Link previews, image attachments, transcript exports: the writes around their tasks. -------


def link_preview_schedule(message: Message) -> LinkPreview | None:
    """In the message's transaction: a pending preview for its first link, fetched on commit."""
    url = first_link(message.body)
    if url is None:
        return None
    preview = LinkPreview.objects.create(message=message, url=url)
    transaction.on_commit(
        partial(enqueue, tasks.fetch_link_preview, preview_id=preview.pk), robust=True
    )
    return preview


def link_preview_store(*, preview: LinkPreview, metadata: PageMetadata, image: str) -> None:
    """Show the card; unless the preview was removed meanwhile (its message deleted, or edited
    to another link): then nothing is stored, and the fetched image is thrown away."""
    preview.title = metadata.title
    preview.description = metadata.description
    preview.site_name = metadata.site_name
    preview.image = image
    preview.status = LinkPreview.Status.READY
    preview.error = ""
    preview.updated_at = timezone.now()
    fields = ["title", "description", "site_name", "image", "status", "error", "updated_at"]
    with transaction.atomic():
        if not _update_if_present(preview, fields):
            transaction.on_commit(partial(_files_delete, [image] if image else []), robust=True)
            return
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)


def _update_if_present(row: LinkPreview | Attachment, fields: list[str]) -> bool:
    """Save `fields` of a row that may have been deleted meanwhile; False if it was (a plain
    save would insert it again)."""
    values = {field: getattr(row, field) for field in fields}
    return type(row).objects.filter(pk=row.pk).update(**values) > 0


def link_preview_fail(*, preview_id: int, reason: str) -> None:
    with transaction.atomic():
        preview = LinkPreview.objects.select_related("message").filter(id=preview_id).first()
        if preview is None:
            return
        preview.status = LinkPreview.Status.FAILED
        preview.error = reason[:300]
        preview.updated_at = timezone.now()
        if not _update_if_present(preview, ["status", "error", "updated_at"]):
            return
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)


def message_post_with_image(
    *,
    room: Room,
    author: User,
    body: str,
    upload: IO[bytes],
    decoded: DecodedImage,
    size: int,
    client_id: uuid.UUID | None,
) -> Message:
    """Store the image, post the message (shown at once, with a placeholder), and make the
    thumbnail in a task on commit. An upload retried with the same client id (the form's) is
    message_post's retry: the message saved the first time, pushed again, its image kept."""
    extension = IMAGE_EXTENSIONS[decoded.format]
    upload.seek(0)
    name = default_storage.save(f"attachments/{uuid.uuid4().hex}.{extension}", File(upload))
    try:
        with transaction.atomic():
            message, new = _message_insert(room=room, author=author, body=body, client_id=client_id)
            if new:
                attachment = Attachment.objects.create(
                    message=message,
                    original=name,
                    content_type=decoded.content_type,
                    width=decoded.width,
                    height=decoded.height,
                    size=size,
                )
                transaction.on_commit(
                    partial(enqueue, tasks.make_thumbnail, attachment_id=attachment.pk),
                    robust=True,
                )
    except BaseException:
        default_storage.delete(name)
        raise
    if not new:
        default_storage.delete(name)
    return message


def attachment_thumbnail_store(*, attachment: Attachment, thumbnail: Thumbnail) -> None:
    name = default_storage.save(
        f"thumbnails/{uuid.uuid4().hex}.{THUMBNAIL_EXTENSION}", ContentFile(thumbnail.data)
    )
    attachment.thumbnail = name
    attachment.thumbnail_width = thumbnail.width
    attachment.thumbnail_height = thumbnail.height
    attachment.status = Attachment.Status.READY
    attachment.error = ""
    fields = ["thumbnail", "thumbnail_width", "thumbnail_height", "status", "error"]
    with transaction.atomic():
        if not _update_if_present(attachment, fields):
            # Its message was deleted while the thumbnail was being made.
            transaction.on_commit(partial(_files_delete, [name]), robust=True)
            return
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)


def attachment_fail(*, attachment_id: int, reason: str) -> None:
    with transaction.atomic():
        attachment = Attachment.objects.select_related("message").filter(id=attachment_id).first()
        if attachment is None:
            return
        attachment.status = Attachment.Status.FAILED
        attachment.error = reason[:300]
        if not _update_if_present(attachment, ["status", "error"]):
            return
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)


EXPORTS_UNFINISHED_LIMIT = 3


def export_request(*, room: Room, user: User, export_format: str) -> TranscriptExport:
    if export_format not in TranscriptExport.Format.values:
        raise Invalid("Choose JSON or CSV.")
    if not queries.room_is_readable(user=user, room_id=room.id):
        raise Forbidden(NOT_A_MEMBER)
    with transaction.atomic():
        if queries.exports_unfinished_count(user_id=user.pk) >= EXPORTS_UNFINISHED_LIMIT:
            raise Invalid(
                f"You have {EXPORTS_UNFINISHED_LIMIT} exports in progress; wait for one to finish."
            )
        export = TranscriptExport.objects.create(room=room, requested_by=user, format=export_format)
        transaction.on_commit(
            partial(enqueue, tasks.build_transcript_export, export_id=export.pk), robust=True
        )
    return export


def export_progress(*, export: TranscriptExport, progress: int) -> None:
    """Record and show progress; nothing is written or pushed when the percentage is the same."""
    if export.status == TranscriptExport.Status.RUNNING and export.progress == progress:
        return
    export.status = TranscriptExport.Status.RUNNING
    export.progress = progress
    with transaction.atomic():
        export.save(update_fields=["status", "progress"])
        # A copy: the push shows this step's progress even if it leaves after later steps.
        transaction.on_commit(partial(events.export_changed, copy(export)), robust=True)


def export_finish(*, export: TranscriptExport, file: str, message_count: int) -> None:
    """The file is ready: show the link and notify its owner, with a link only they can use."""
    export.file = file
    export.message_count = message_count
    export.status = TranscriptExport.Status.READY
    export.progress = 100
    export.error = ""
    export.finished_at = timezone.now()
    with transaction.atomic():
        export.save()
        transaction.on_commit(partial(events.export_changed, export), robust=True)
        notify(
            recipients=[export.requested_by],
            actor=None,
            verb=Notification.Verb.EXPORT_READY,
            target_label=f"{room_label(export.room)} ({export.get_format_display()})",
            target_url=export.get_absolute_url(),
        )


def export_fail(*, export_id: int, reason: str) -> None:
    with transaction.atomic():
        export = TranscriptExport.objects.filter(id=export_id).first()
        if export is None:
            return
        export.status = TranscriptExport.Status.FAILED
        export.error = reason[:300]
        export.finished_at = timezone.now()
        export.save()
        transaction.on_commit(partial(events.export_changed, export), robust=True)


def enqueue(task: Task[..., None], **kwargs: Any) -> None:
    task.enqueue(**kwargs)
