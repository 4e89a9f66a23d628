# lagwatch: collector, dashboard and demo bank in one image (no Java needed inside:
# in compose, Kafka runs from the apache/kafka image).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collectors ./collectors
COPY dashboard ./dashboard
COPY demo_system ./demo_system
COPY deploy ./deploy
RUN pip install --no-cache-dir . && mkdir -p /data && chown nobody /data
USER nobody
VOLUME ["/data"]
ENTRYPOINT ["lagwatch"]
CMD ["--help"]
