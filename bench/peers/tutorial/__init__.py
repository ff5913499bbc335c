"""The Channels tutorial's chat, as published: one consumer per socket, a group per room,
RedisChannelLayer with its defaults. A standalone Django project, apart from the app's.

    DJANGO_SETTINGS_MODULE=bench.peers.tutorial.settings REDIS_URL=redis://127.0.0.1:6379/12 \
        daphne -b 127.0.0.1 -p 8003 bench.peers.tutorial.asgi:application
"""
