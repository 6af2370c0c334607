# KiJuFaZ production image: gunicorn serving kijufaz.wsgi, static files via WhiteNoise.
# The same image runs the Celery worker and beat (see docker-compose.yml).

# --- Front-end assets: Bootstrap and Bootstrap Icons from package-lock.json ----
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- Application ---------------------------------------------------------------
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF reports) needs Pango, HarfBuzz's subsetter and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 kijufaz

WORKDIR /app

# Dependencies first (pinned in pyproject.toml) so code changes keep this layer.
COPY pyproject.toml README.md ./
RUN pip install .

COPY --from=assets /app/node_modules ./node_modules
COPY manage.py ./
COPY kijufaz ./kijufaz
COPY core ./core
COPY cases ./cases
COPY providers ./providers
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# The key only exists so that settings load with DEBUG=false during the build.
RUN DEBUG=false SECRET_KEY=collectstatic-build-only-not-a-secret \
    python manage.py collectstatic --noinput

RUN mkdir -p /data/media && chown kijufaz:kijufaz /data/media
VOLUME /data/media

ENV DEBUG=false \
    MEDIA_ROOT=/data/media

USER kijufaz
EXPOSE 8000
CMD ["gunicorn", "-c", "python:kijufaz.gunicorn", "kijufaz.wsgi:application"]
