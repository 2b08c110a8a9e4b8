"use client";

import { currentHost } from "../lib/format.ts";

/** No repositories yet: how to push the first image with the tools people already have. */
export function RegistryEmpty() {
  const host = currentHost();
  const insecure = typeof window !== "undefined" && window.location.protocol === "http:";
  const skopeo = [
    `skopeo copy${insecure ? " --dest-tls-verify=false" : ""} \\`,
    `  oci:./image:latest docker://${host}/team/app:1 \\`,
    "  --dest-creds USER:PASSWORD",
  ].join("\n");
  const tls = insecure ? " --tls-verify=false" : "";
  return (
    <div className="panel empty" data-testid="registry-empty">
      <h2>No images yet</h2>
      <p className="muted">
        This control plane is an OCI registry at <span className="mono">{host}</span>. Push to it with your
        Berth username and password or an API token; everyone logged in can browse what is pushed here.
      </p>
      <ol className="steps">
        <li>
          With skopeo, copy an image from an OCI layout, a local archive or another registry:
          <pre className="code" data-testid="registry-push-skopeo">
            {skopeo}
          </pre>
        </li>
        <li>
          Or with podman (or docker):
          <pre className="code" data-testid="registry-push-podman">
            {`podman login${tls} ${host}\npodman push${tls} localhost/app:1 ${host}/team/app:1`}
          </pre>
        </li>
        <li>The repository appears here once its first manifest is pushed.</li>
      </ol>
    </div>
  );
}
