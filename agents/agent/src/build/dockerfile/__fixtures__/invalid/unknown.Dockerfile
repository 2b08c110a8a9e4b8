FROM busybox

  FROBNICATE all
