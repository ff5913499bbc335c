"""Message reactions: who picked which emoji on which message. Registered as chat models by
chat/models.py importing this module; the foreign keys are strings, so nothing here imports
chat's other modules."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReactionManager(models.Manager["Reaction"]):
    """Every read of reactions shows who reacted: the user comes with the row (also through
    `message.reactions`, whose manager is this one)."""

    def get_queryset(self) -> models.QuerySet["Reaction"]:
        return super().get_queryset().select_related("user")


class Reaction(models.Model):
    """One person's one emoji on one message; picking it again removes the row."""

    class Emoji(models.TextChoices):
        # The fixed set, in the order the picker shows it; the label is what it is called.
        THUMBS_UP = "👍", "thumbs up"
        HEART = "❤️", "heart"
        LAUGH = "😂", "laughing"
        PARTY = "🎉", "party"
        SURPRISE = "😮", "surprised"
        SAD = "😢", "sad"

    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_reactions"
    )
    emoji = models.CharField(max_length=8, choices=Emoji.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReactionManager()

    class Meta:
        # Grouped by emoji where shown (chat/reactions.html), each group in the order of picking.
        ordering = ["emoji", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="chat_reaction_unique"
            )
        ]
        indexes = [models.Index(fields=["message", "id"], name="chat_reaction_message")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.emoji} on {self.message_id}"
