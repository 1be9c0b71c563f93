# The app in a container, installed exactly as .ci/run installs it (not built on the team's machines: no container engine there).
# Build: docker build -t cnn-course . ; run: docker run -p 8501:8501 cnn-course
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8501
CMD [".venv/bin/streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
