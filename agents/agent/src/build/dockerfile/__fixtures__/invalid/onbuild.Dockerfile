FROM busybox
RUN echo ok
ONBUILD RUN echo later
