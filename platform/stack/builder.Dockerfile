# The builder: the runtime stack plus compilers and tools buildpacks need.
# Runs as root; the build output is handed to the runtime stack (uid 1000).
ARG STACK_IMAGE
FROM ${STACK_IMAGE}

USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      git curl build-essential python3-venv python3-pip pkg-config xz-utils ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb

# Installing ca-certificates may regenerate the bundle; put the host's back.
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt

WORKDIR /app
CMD ["bash"]
