# A GIN index for full-text search of message bodies, on PostgreSQL only. Other databases
# (SQLite in the embedded topology) search with a plain substring match and skip this step.
# The indexed expression is exactly the one chat.queries.message_search filters on:
# SearchVector("body", config="english").

from django.db import migrations

INDEX = "chat_message_body_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON chat_message "
        "USING GIN (to_tsvector('english'::regconfig, COALESCE(body, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0004_read_cursor'),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
