FROM busybox AS one
FROM busybox AS one
