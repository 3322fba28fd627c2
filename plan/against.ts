export async function againstPlan(_: unknown): Promise<{ ok: true; planMd: string } | { ok: false; error: string }> {
  return { ok: false, error: "todo" };
}
