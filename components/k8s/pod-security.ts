/**
 * Security contexts of our own small workloads (the verification Job, the gateway and its Redis, the quality
 * canary, the chat bridge), as Pod Security "restricted" asks for them (docs/security.md).
 */

/** The `node` user of the official Node.js images, which images/verifier and images/gateway run as. */
export const NODE_IMAGE_UID = 1000;

/** Pod securityContext: a fixed non-root user and group, the runtime's default seccomp profile. */
export function nonRootPodSecurity(uid: number) {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container securityContext: no privilege escalation, a read-only root filesystem, no capabilities. */
export function restrictedContainerSecurity() {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
}
