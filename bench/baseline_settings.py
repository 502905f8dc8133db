"""Settings of the baselines' ASGI apps: nothing but the Redis channel layer, as the app configures it.

Only ``bench.baselines`` uses these (``DJANGO_SETTINGS_MODULE=bench.baseline_settings`` in its server's
environment); the layer's options are the application's own, so B1 measures the same layer.
"""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-baseline")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
USE_TZ = True
REDIS_URL = os.environ["REDIS_URL"]
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "max_connections": int(os.environ.get("REDIS_MAX_CONNECTIONS", "1000")),
                    "socket_timeout": 30,  # as config.settings: redis-py 8's 5 s default breaks BZPOPMIN
                }
            ],
            "capacity": 1500,
            "expiry": 30,
        },
    }
}
