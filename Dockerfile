FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_DEBUG=0

RUN useradd --create-home --uid 1000 kehittamo
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=kehittamo:kehittamo . .
# collectstatic needs a key, not the real one
RUN SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput

USER kehittamo
EXPOSE 8000
CMD ["daphne", "--access-log", "/dev/null", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "config.asgi:application"]
