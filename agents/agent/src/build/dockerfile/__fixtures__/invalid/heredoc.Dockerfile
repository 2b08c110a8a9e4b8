FROM busybox
RUN <<EOF
echo hi
EOF
