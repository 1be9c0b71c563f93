# The app in a container, CPU only (not built on the team's machines: no container engine runs there).
# Build: docker build -t cnn-course . ; run: docker run -p 8501:8501 cnn-course
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app
RUN python3 -m venv /opt/venv
# PyTorch's CPU wheels first, in their own layer: from PyPI, Linux gets the CUDA build (about 4 GB of nvidia/triton
# wheels). The versions are pyproject.toml's pins, which the CPU builds (2.14.1+cpu) satisfy.
RUN /opt/venv/bin/pip install torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu
COPY . .
# The rest of pyproject.toml's dependencies from PyPI. The app runs from /app (app.py, pages/, assets/), owned by root:
# the app user reads it and cannot change it.
RUN /opt/venv/bin/pip install -e .
USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["/opt/venv/bin/streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
