# storybot in a container. Untested here (no image registry was reachable where this was
# written), so treat it as a starting point; the supported way is the systemd unit in deploy/.
#
#   docker build -t storybot .
#   docker run -d --name storybot --restart on-failure --env-file .env -v storybot-data:/data storybot
#
# Everything that must survive a new container lives in the /data volume: the database
# (/data/stories.db) and the stories folder (/data/stories, seeded from seeds/ on first start,
# and where /library add saves uploads).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    STORIES_DIR=/data/stories

RUN useradd --system --create-home --uid 10001 --user-group storybot \
    && mkdir /data && chown storybot:storybot /data

WORKDIR /app
# The same install as `make run`, without the development tools.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY seeds ./seeds
COPY requirements.lock .
RUN pip install . -c requirements.lock

USER storybot
VOLUME ["/data"]
# Exit status 2 means a configuration error: `--restart on-failure` retries it anyway, so
# read `docker logs storybot` when it keeps restarting.
CMD ["sh", "-c", "[ -d \"$STORIES_DIR\" ] || cp -r /app/seeds \"$STORIES_DIR\"; exec python -m bot"]
