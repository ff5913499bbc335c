import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.models import DBTaskResult

from chat.attachments import tasks as attachment_tasks
from chat.exports import tasks as export_tasks
from chat.previews import tasks as preview_tasks

BEFORE = ("chat", "0006_previews_attachments_exports")
AFTER = ("chat", "0007_task_paths_by_feature")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.fixture(autouse=True)
def latest_schema_after():
    """Every later test expects every table: migrate forward to the newest migrations again."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.parametrize(
    ("task", "kwargs", "old_path"),
    [
        (preview_tasks.fetch_link_preview, {"preview_id": 1}, "chat.tasks.fetch_link_preview"),
        (attachment_tasks.make_thumbnail, {"attachment_id": 1}, "chat.tasks.make_thumbnail"),
        (
            export_tasks.build_transcript_export,
            {"export_id": 1},
            "chat.tasks.build_transcript_export",
        ),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_tasks_queued_under_their_old_paths_run_after_the_move(task, kwargs, old_path):
    queued = task.enqueue(**kwargs)
    migrate(BEFORE)
    # As the previous release queued it: under chat.tasks.
    assert DBTaskResult.objects.get(id=queued.id).task_path == old_path

    migrate(AFTER)
    row = DBTaskResult.objects.get(id=queued.id)
    assert row.task_path == f"{task.func.__module__}.{task.func.__name__}"
    assert row.task.func is task.func
