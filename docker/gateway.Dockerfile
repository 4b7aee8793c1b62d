# The REST gateway. Build from the repository root (`make images` does):
#   docker build -f docker/gateway.Dockerfile -t percept/gateway:0.1.0 .
# Serving dependencies only (requirements/serving.txt: never torch), the gRPC stubs generated here.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY requirements/serving.txt requirements/serving.txt
RUN pip install --no-cache-dir --prefix=/install -r requirements/serving.txt
COPY protos protos
COPY sandbox-runner sandbox-runner
COPY services services
COPY gateway gateway
COPY pyproject.toml pyproject.toml
# The stubs are build output (the Makefile's protos target, done here the same way).
RUN PYTHONPATH=/install/lib/python3.11/site-packages python -m grpc_tools.protoc -I protos \
        --python_out=sandbox-runner/percept_sandbox/_proto --grpc_python_out=sandbox-runner/percept_sandbox/_proto \
        protos/percept/sandbox/v1/sandbox.proto \
 && PYTHONPATH=/install/lib/python3.11/site-packages python -m grpc_tools.protoc -I protos \
        --python_out=services/codeperception/_proto --grpc_python_out=services/codeperception/_proto \
        protos/percept/codeperception/v1/codeperception.proto \
 && pip install --no-cache-dir --no-deps --prefix=/install ./sandbox-runner .

FROM python:3.11-slim-bookworm
COPY --from=build /install /usr/local
RUN useradd --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin percept
ENV PERCEPT_GATEWAY_HOST=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001
EXPOSE 8080
# Read-only root filesystem in the chart: only /tmp (an emptyDir) is written.
ENTRYPOINT ["python", "-m", "gateway"]
