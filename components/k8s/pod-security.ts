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

/**
 * Where a pod spec breaks Pod Security "restricted" (which includes "baseline"), as Pod Security Admission judges
 * it: one line per problem naming the field, empty when the pod is admitted. The rules of the Pod Security Standards
 * page (kubernetes.io/docs/concepts/security/pod-security-standards, Baseline and Restricted tables, read
 * 2026-12-07 for v1.35): no host namespaces, ports or paths, not privileged, no unsafe AppArmor/SELinux/procMount/
 * sysctls; then only the listed volume types, allowPrivilegeEscalation false, runAsNonRoot true and no UID 0,
 * seccomp RuntimeDefault or Localhost, capabilities drop ALL and add at most NET_BIND_SERVICE. Sysctls are refused
 * outright here (ours set none), which is stricter than the safe subset baseline allows.
 */
export function restrictedViolations(spec: PodSpecLike): string[] {
  const out: string[] = [];
  for (const f of ["hostNetwork", "hostPID", "hostIPC"] as const) if (spec[f]) out.push(`spec.${f} is true`);
  if (spec.securityContext?.sysctls?.length) out.push("spec.securityContext.sysctls is set");
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (!type || !RESTRICTED_VOLUME_TYPES.includes(type)) out.push(`volume ${v.name} is of type ${type ?? "none"}`);
  }
  const pod = spec.securityContext ?? {};
  const containers = [
    ...(spec.initContainers ?? []).map((c) => ({ c, at: `initContainers[${c.name}]` })),
    ...(spec.containers ?? []).map((c) => ({ c, at: `containers[${c.name}]` })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({ c, at: `ephemeralContainers[${c.name}]` })),
  ];
  const allowedSeccomp = (t?: string) => t === "RuntimeDefault" || t === "Localhost";
  if (pod.seccompProfile?.type === "Unconfined") out.push("spec.securityContext.seccompProfile is Unconfined");
  if (pod.runAsUser === 0) out.push("spec.securityContext.runAsUser is 0");
  badSelinuxOrAppArmor(pod, "spec.securityContext", out);
  if (pod.windowsOptions?.hostProcess) out.push("spec.securityContext.windowsOptions.hostProcess is true");
  for (const { c, at } of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${at}.securityContext.privileged is true`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}.securityContext.allowPrivilegeEscalation is not false`);
    if (sc.runAsNonRoot !== true && !(pod.runAsNonRoot === true && sc.runAsNonRoot === undefined))
      out.push(`${at}: runAsNonRoot is not true (pod or container)`);
    if (sc.runAsUser === 0) out.push(`${at}.securityContext.runAsUser is 0`);
    const seccomp = sc.seccompProfile?.type;
    if (seccomp !== undefined ? !allowedSeccomp(seccomp) : !allowedSeccomp(pod.seccompProfile?.type))
      out.push(`${at}: seccompProfile is not RuntimeDefault or Localhost (pod or container)`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${at}.securityContext.capabilities.drop lacks ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== "NET_BIND_SERVICE") out.push(`${at}.securityContext.capabilities.add has ${cap}`);
    if (sc.procMount !== undefined && sc.procMount !== "Default")
      out.push(`${at}.securityContext.procMount is ${sc.procMount}`);
    if (sc.windowsOptions?.hostProcess) out.push(`${at}.securityContext.windowsOptions.hostProcess is true`);
    badSelinuxOrAppArmor(sc, `${at}.securityContext`, out);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at} port ${p.containerPort} has hostPort ${p.hostPort}`);
  }
  return out;
}

/** The volume types "restricted" allows (every other, hostPath included, is refused). */
const RESTRICTED_VOLUME_TYPES: readonly string[] = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

function badSelinuxOrAppArmor(sc: SecurityContextLike, at: string, out: string[]): void {
  const se = sc.seLinuxOptions;
  if (se?.type !== undefined && !SELINUX_TYPES.includes(se.type)) out.push(`${at}.seLinuxOptions.type is ${se.type}`);
  if (se?.user || se?.role) out.push(`${at}.seLinuxOptions sets user or role`);
  if (sc.appArmorProfile?.type === "Unconfined") out.push(`${at}.appArmorProfile is Unconfined`);
}

interface SecurityContextLike {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly privileged?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly seccompProfile?: { readonly type?: string };
  readonly appArmorProfile?: { readonly type?: string };
  readonly seLinuxOptions?: { readonly type?: string; readonly user?: string; readonly role?: string };
  readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  readonly procMount?: string;
  readonly windowsOptions?: { readonly hostProcess?: boolean };
  readonly sysctls?: readonly unknown[];
}

interface ContainerLike {
  readonly name: string;
  readonly securityContext?: SecurityContextLike;
  readonly ports?: readonly { readonly containerPort?: number; readonly hostPort?: number }[];
}

/** The fields of a Pod spec (core/v1 PodSpec, as rendered) that Pod Security Admission reads. */
export interface PodSpecLike {
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly securityContext?: SecurityContextLike;
  readonly volumes?: readonly ({ readonly name: string } & Record<string, unknown>)[];
  readonly containers?: readonly ContainerLike[];
  readonly initContainers?: readonly ContainerLike[];
  readonly ephemeralContainers?: readonly ContainerLike[];
}
