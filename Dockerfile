# The product's image: `soar worker`, `soar api` and `soar bot --socket` from one image
# (deploy/compose.yaml and deploy/k8s/ pick the command). Built from this repository:
#
#   docker build -t soar:0.1.0 .
#
# The build stage installs the package (no dev dependencies) into a virtual environment;
# the runtime stage copies only that environment, so no source tree, compiler or pip
# cache ships. It runs as an unprivileged user and writes only to the data directory
# (/var/lib/soar: the API's spool, the worker's digest files) and /tmp, so the root
# filesystem can be mounted read-only.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/soar
WORKDIR /src
# Only what the wheel is built from (pyproject.toml names README.md as the readme and
# these four packages; hatchling leaves out what .gitignore lists, such as __pycache__);
# a local soar.toml, .venv or .soar never reaches the image.
COPY pyproject.toml README.md .gitignore ./
COPY soar ./soar
COPY workflows ./workflows
COPY integrations ./integrations
COPY bot ./bot
RUN /opt/soar/bin/pip install .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 soar \
    && useradd --system --uid 10001 --gid soar --home-dir /var/lib/soar \
        --shell /usr/sbin/nologin soar \
    && install -d -o soar -g soar -m 0750 /var/lib/soar
COPY --from=build /opt/soar /opt/soar
ENV PATH=/opt/soar/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    SOAR_DATA_DIR=/var/lib/soar \
    SOAR_API_HOST=0.0.0.0
USER 10001:10001
WORKDIR /var/lib/soar
VOLUME ["/var/lib/soar"]
EXPOSE 8080
ENTRYPOINT ["soar"]
CMD ["api"]
