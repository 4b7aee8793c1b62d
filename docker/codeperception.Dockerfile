# The code-perception gRPC service (image to code, render, score). Build from the repository root,
# after `make models` (the reference backend's embedded dataset is baked in, and the retrieval index
# published with CodePercept-mini, which the default `verified` backend reads):
#   docker build -f docker/codeperception.Dockerfile -t percept/codeperception:0.1.0 .
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY requirements/serving.txt requirements/serving.txt
RUN pip install --no-cache-dir --prefix=/install -r requirements/serving.txt
COPY protos protos
COPY sandbox-runner sandbox-runner
COPY services services
COPY gateway gateway
COPY pyproject.toml pyproject.toml
RUN PYTHONPATH=/install/lib/python3.11/site-packages python -m grpc_tools.protoc -I protos \
        --python_out=sandbox-runner/percept_sandbox/_proto --grpc_python_out=sandbox-runner/percept_sandbox/_proto \
        protos/percept/sandbox/v1/sandbox.proto \
 && PYTHONPATH=/install/lib/python3.11/site-packages python -m grpc_tools.protoc -I protos \
        --python_out=services/codeperception/_proto --grpc_python_out=services/codeperception/_proto \
        protos/percept/codeperception/v1/codeperception.proto \
 && pip install --no-cache-dir --no-deps --prefix=/install ./sandbox-runner .

FROM python:3.11-slim-bookworm
ARG ARTIFACTS=artifacts
COPY --from=build /install /usr/local
COPY ${ARTIFACTS}/stem2code-sample /opt/percept/stem2code-sample
COPY models/codepercept-mini/retrieval-index.npz /opt/percept/retrieval-index.npz
RUN useradd --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin percept \
 && MPLCONFIGDIR=/opt/percept/mplconfig python -c "import matplotlib.pyplot" && chmod -R a+rX /opt/percept
ENV PERCEPT_CODEPERCEPTION_GRPC_HOST=0.0.0.0 \
    PERCEPT_CODEPERCEPTION_METRICS_HOST=0.0.0.0 \
    PERCEPT_CODEPERCEPTION_DATASET_DIR=/opt/percept/stem2code-sample \
    PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=/opt/percept/retrieval-index.npz \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001
EXPOSE 50071 9471
ENTRYPOINT ["python", "-m", "services.codeperception"]
