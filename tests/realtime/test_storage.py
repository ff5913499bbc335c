import re

from django.core.management import call_command
from django.test import override_settings

HASHED = re.compile(r"^(?P<name>[a-z]+)\.[0-9a-f]{12}\.js$")
RELATIVE_IMPORT = re.compile(r'^import\s*(?:.+ from )?"\./([^"]+)";$', re.MULTILINE)


def test_collected_modules_import_each_other_by_their_hashed_names(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "realtime.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
    frontend = tmp_path / "frontend"
    hashed = {
        match["name"]: path.name
        for path in frontend.iterdir()
        if (match := HASHED.match(path.name))
    }

    def imports(module: str) -> list[str]:
        return RELATIVE_IMPORT.findall((frontend / hashed[module]).read_text())

    assert imports("app") == [
        hashed[module]
        for module in [
            "connection",
            "messages",
            "composer",
            "outbox",
            "typing",
            "rooms",
            "tasks",
            "times",
            "toasts",
            "notify",
            "conversation",
        ]
    ]
    assert imports("messages") == [hashed["pushes"]]
    assert imports("outbox") == [hashed["composer"], hashed["connection"]]
