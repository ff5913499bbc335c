#!/bin/sh
# Container entrypoint: wait for the database, migrate if asked, then run the command.
#
#   RUN_MIGRATIONS=1   apply migrations before starting (set it on exactly one service)
#   LOAD_DEMO_DATA=1   create the demo users and rooms (after migrating; safe to repeat)
#   DB_WAIT_SECONDS    how long to wait for the database (default 60)
set -eu

python - <<'PYTHON'
import os
import sys
import time

import django
from django.db import connection
from django.db.utils import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime.settings")
django.setup()

deadline = time.monotonic() + int(os.environ.get("DB_WAIT_SECONDS", "60"))
while True:
    try:
        connection.ensure_connection()
        break
    except OperationalError as error:
        if time.monotonic() > deadline:
            sys.exit(f"entrypoint: the database did not answer in time: {error}")
        print("entrypoint: waiting for the database...", flush=True)
        time.sleep(1)
connection.close()
PYTHON

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

if [ "${LOAD_DEMO_DATA:-0}" = "1" ]; then
    python manage.py load_demo_data
fi

exec "$@"
