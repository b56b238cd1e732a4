# digitdraw as a container: Docker Spaces, Cloud Run, Fly and Kubernetes all take it.
#   docker build -t digitdraw . && docker run -p 7860:7860 digitdraw
# Not built here (no Docker daemon on the development machines); checked with hadolint.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

# A non-root user, as Docker Spaces run the container with uid 1000.
RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/digitdraw

# CPU torch from PyTorch's index first (a few hundred MB instead of several GB of CUDA), then the
# pinned rest; the pins are requirements.txt's.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -r requirements.txt

COPY --chown=app:app app.py pyproject.toml README.md LICENSE ./
COPY --chown=app:app digitdraw ./digitdraw
COPY --chown=app:app weights ./weights
COPY --chown=app:app examples ./examples
COPY --chown=app:app learn ./learn

USER 1000
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['GRADIO_SERVER_PORT']}/\", timeout=4)"]
CMD ["python", "app.py"]
