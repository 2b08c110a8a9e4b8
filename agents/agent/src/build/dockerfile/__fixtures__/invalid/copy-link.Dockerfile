FROM busybox
COPY --link a /a
