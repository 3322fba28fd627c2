// Smoke test of the CrossGuard entry point: policy/index.ts is started the way the Pulumi policy runner starts it
// (working directory policy/, so @pulumi/policy finds policy/package.json) and answers the engine's analyzer gRPC
// calls on 127.0.0.1. The rules themselves are unit-tested directly in policy.test.ts; this proves the wiring.
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICY_RULES } from "../policy/rules";
import { startProcess } from "./run-cli";

const ROOT = path.join(__dirname, "..");
const grpc = require("@grpc/grpc-js");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

let pack: ReturnType<typeof startProcess>["child"] | undefined;
let stopPack: (() => Promise<void>) | undefined;
let client: any;

beforeAll(async () => {
  // tsx starts node as its child: startProcess stops the whole process group, not only tsx (which orphaned the
  // runner before).
  ({ child: pack, stop: stopPack } = startProcess(path.join(ROOT, "node_modules", ".bin", "tsx"), ["index.ts"], {
    cwd: path.join(ROOT, "policy"),
  }));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`policy pack did not print its port in 30 s\n${out}\n${err}`)),
      30_000,
    );
    pack!.stderr!.on("data", (d) => (err += d));
    pack!.stdout!.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    pack!.on("exit", (code) => reject(new Error(`policy pack exited with ${code}\n${out}\n${err}`)));
  });
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 40_000);

afterAll(async () => {
  client?.close();
  await stopPack?.();
});

const call = <T>(method: string, req: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method](req, { deadline: Date.now() + 15_000 }, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))),
  );

describe("the policy pack under @pulumi/policy's analyzer server", () => {
  it("announces every rule with its enforcement level", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("retrieval-stack");
    const levels = Object.fromEntries(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]));
    const MANDATORY = analyzerPb.EnforcementLevel.MANDATORY;
    const ADVISORY = analyzerPb.EnforcementLevel.ADVISORY;
    expect(levels).toEqual(
      Object.fromEntries(POLICY_RULES.map((r) => [r.name, r.enforcementLevel === "mandatory" ? MANDATORY : ADVISORY])),
    );
  });

  it("reports a LoadBalancer engine Service as a mandatory violation, and passes a ClusterIP one", async () => {
    const analyze = async (type: string) => {
      const req = new analyzerPb.AnalyzeRequest();
      req.setType("kubernetes:core/v1:Service");
      req.setName("bge");
      req.setUrn("urn:pulumi:prod::retrieval-stack::kubernetes:core/v1:Service::bge");
      req.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the engine always sends options
      req.setProperties(
        Struct.fromJavaScript({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "bge", namespace: "retrieval" },
          spec: { type, ports: [{ port: 80 }] },
        }),
      );
      const res: any = await call("analyze", req);
      return res
        .getDiagnosticsList()
        .map((d: any) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));
    };
    expect(await analyze("ClusterIP")).toEqual([]);
    expect(await analyze("LoadBalancer")).toEqual([
      {
        policy: "engines-cluster-internal",
        level: analyzerPb.EnforcementLevel.MANDATORY,
        message: expect.stringContaining("Service retrieval/bge is of type LoadBalancer"),
      },
    ]);
  });
});
