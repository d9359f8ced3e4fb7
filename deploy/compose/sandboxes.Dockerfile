# The external-API sandboxes (CCV Shop, PrestaShop, Bol.com, Octopus, SnelStart) for the docker
# compose demo.
# One image, one sandbox per container: the compose file picks the module.
#
#   docker build -f deploy/compose/sandboxes.Dockerfile -t koppel/sandboxes:dev .

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable \
      --package koppel-sandbox-ccvshop --package koppel-sandbox-octopus \
      --package koppel-sandbox-snelstart --package koppel-sandbox-prestashop \
      --package koppel-sandbox-bol

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="koppel-sandboxes" \
      org.opencontainers.image.description="Koppel's local simulators of the shop and ledger APIs"
RUN groupadd --system --gid 10001 koppel \
    && useradd --system --uid 10001 --gid koppel --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin koppel
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
# Each container runs one sandbox, e.g. `python -m koppel_sandbox_octopus --host 0.0.0.0 --port 8102`.
HEALTHCHECK NONE
ENTRYPOINT ["python", "-m"]
CMD ["koppel_sandbox_octopus", "--host", "0.0.0.0", "--port", "8102"]
