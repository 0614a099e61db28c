# jsctl's container image, for hack/drift-cronjob.yaml and hack/worker-deployment.yaml:
#   docker build -t jsctl:0.1.0 .
# The wheel is built in a throwaway stage and installed without extras (no embedded servers, no test
# tools); jsctl runs as an unprivileged user. tests/test_packaging.py runs these pip commands.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler reconciler
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.12-slim
COPY --from=build /dist /dist
RUN pip install --no-cache-dir /dist/*.whl
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin jsctl
USER 10001:10001
WORKDIR /manifests
ENTRYPOINT ["jsctl"]
CMD ["--help"]
