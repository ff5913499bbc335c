# The chat tasks moved from chat.tasks into the feature packages: rows the database worker
# still holds under the old paths (queued before a deploy, or waiting for a retry) are pointed
# at the new ones, so they run; and back again if this is reversed.

from django.db import migrations

MOVED = {
    "chat.tasks.fetch_link_preview": "chat.previews.tasks.fetch_link_preview",
    "chat.tasks.make_thumbnail": "chat.attachments.tasks.make_thumbnail",
    "chat.tasks.build_transcript_export": "chat.exports.tasks.build_transcript_export",
}


def rewrite(apps, schema_editor, paths):
    results = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in paths.items():
        results.objects.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor):
    rewrite(apps, schema_editor, MOVED)


def backwards(apps, schema_editor):
    rewrite(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_previews_attachments_exports"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
