# Triton Inference Server carrying percept's python-backend code and a built model repository.
# Build from the repository root after `make models` (cpu target) or, on a GPU machine,
# `python -m services.models.build_default --target gpu --out artifacts` (TensorRT plans):
#   docker build -f docker/triton.Dockerfile --build-arg VARIANT=cpu -t percept/triton:0.1.0-cpu .
# The chart runs `tritonserver --model-repository=/opt/percept/model_repository` (values: source "image"),
# or mounts another repository (a PVC, or object storage copied by an init container) at /models.
# NVIDIA's image has the onnxruntime and tensorrt backends and the python backend; its stub runs the
# image's own Python, into which the models' dependencies are installed (serving requirements only).
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:25.01-py3
FROM ${TRITON_IMAGE}
ARG ARTIFACTS=artifacts
ARG VARIANT=gpu
COPY requirements/serving.txt /opt/percept/requirements.txt
RUN python3 -m pip install --no-cache-dir --break-system-packages -r /opt/percept/requirements.txt
COPY services /opt/percept/services
COPY sandbox-runner/percept_sandbox /opt/percept/percept_sandbox
COPY ${ARTIFACTS}/model_repository /opt/percept/model_repository
# percept's uid 10001, as every other image and the chart's runAsUser (>= 10000: no clash with a host
# account; NVIDIA's triton-server user is uid 1000). tritonserver and its backends are world-readable.
RUN test "$(python3 -c 'import json; print(json.load(open("/opt/percept/model_repository/build.json"))["target"])')" = "${VARIANT}" \
 || { echo "the model repository in ${ARTIFACTS} was not built for the ${VARIANT} target" >&2; exit 1; } \
 && chmod -R a+rX /opt/percept \
 && useradd --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin percept
# The python-backend models import services.* from here.
ENV PYTHONPATH=/opt/percept \
    PYTHONDONTWRITEBYTECODE=1
USER 10001
EXPOSE 8000 8001 8002
CMD ["tritonserver", "--model-repository=/opt/percept/model_repository"]
