# One image for Cradle's Python processes (gateway, workers, camera, alerts, actions).
# Rasa runs from its official image (Python 3.10), as DESIGN.md says.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --no-deps -r requirements.lock
COPY services services
COPY models models
COPY workers workers
COPY chatbot chatbot
RUN pip install --no-cache-dir --no-deps -e . \
 && useradd --create-home --uid 1000 cradle \
 && mkdir -p /data /models && chown cradle /data /models
USER cradle
ENV CRADLE_DATA_DIR=/data CRADLE_MODELS__DIR=/models PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["python", "-m", "services.gateway"]
