# The runtime stack: what every app container runs on (tagged paas/stack:latest).
# Built locally from a debootstrapped base because no registry is reachable.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8

# python3: Python apps run Debian's interpreter from a venv; libstdc++6: node binaries need it.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl python3 libstdc++6 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb

# The host's bundle carries the CA of the TLS-intercepting proxy, without which
# nothing inside can reach https://registry.npmjs.org. The second copy keeps it
# in the bundle if anything runs update-ca-certificates later.
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY host-ca-certificates.crt /usr/local/share/ca-certificates/paas-host-bundle.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt

COPY paas-exec /usr/local/bin/paas-exec
RUN chmod 755 /usr/local/bin/paas-exec \
 && groupadd --gid 1000 app \
 && useradd --uid 1000 --gid 1000 --home-dir /app --create-home --shell /bin/bash app

WORKDIR /app
USER app
CMD ["bash"]
