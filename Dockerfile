# qoswatch: a static binary on a distroless, non-root base.
#
#   docker build --build-arg VERSION=$(git describe --always) -t qoswatch .
#   export QOSWATCH_API_TOKEN=$(openssl rand -hex 24)   # the API listens on :9797 in here: it needs one
#   docker run -v qoswatch-data:/data -p 127.0.0.1:9797:9797 \
#     -e ZOOM_ACCOUNT_ID -e ZOOM_CLIENT_ID -e ZOOM_CLIENT_SECRET -e SLACK_BOT_TOKEN -e QOSWATCH_API_TOKEN \
#     -v $PWD/rules.yaml:/etc/qoswatch/rules.yaml:ro qoswatch
#
# Without QOSWATCH_API_TOKEN the container does not start (the API would
# serve participant data to anyone who reaches the port).
#
# cmd/qoswatch/dockerfile_test.go runs this file's build line and checks
# the settings below, because no Docker engine runs in CI.

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qoswatch ./cmd/qoswatch
# The volume's mount point, owned by the runtime user (distroless has no shell to mkdir).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/qoswatch /usr/local/bin/qoswatch
COPY --from=build --chown=65532:65532 /out/data /data
COPY rules.example.yaml /etc/qoswatch/rules.yaml
ENV QOSWATCH_LISTEN=:9797 \
    QOSWATCH_DB=/data/qoswatch.db \
    QOSWATCH_RULES=/etc/qoswatch/rules.yaml \
    QOSWATCH_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 9797
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/qoswatch", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/qoswatch"]
CMD ["run"]
