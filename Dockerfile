# The secretrun image: the static binary and nothing else, built from local files only
# (scripts/release first, for dist/secretrun). Use it as a stage in your own Dockerfile:
#   COPY --from=secretrun /usr/local/bin/secretrun /usr/local/bin/
# or run it directly as the entrypoint of an image built FROM it.
FROM scratch
COPY dist/secretrun /usr/local/bin/secretrun
ENV PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/usr/local/bin/secretrun"]
