/**
 * A user's labelled set: JSONL, one query a line, {"query", "candidates": [{"id", "text"}], "relevant": [ids]}.
 * The canary reads it from a ConfigMap (canary.userSet), the post-deploy check from a model's
 * quality.labelledSet file (read when the program plans, so the Job carries it inline). Parsing only.
 */
import * as fs from "node:fs";
import { z } from "zod";

export const LabelledQuerySchema = z.strictObject({
  query: z.string().min(1),
  candidates: z.array(z.strictObject({ id: z.string().min(1), text: z.string().min(1) })).min(1),
  relevant: z.array(z.string().min(1)).min(1),
});
export type LabelledQuery = z.infer<typeof LabelledQuerySchema>;

/** Parses JSONL; throws naming `where`, the line and the problem. */
export function parseLabelledSet(text: string, where = "user set"): LabelledQuery[] {
  const queries: LabelledQuery[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where} line ${i + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = LabelledQuerySchema.safeParse(json);
    if (!parsed.success)
      throw new Error(
        `${where} line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join(".") || "line"}: ${x.message}`).join("; ")}`,
      );
    const ids = new Set(parsed.data.candidates.map((c) => c.id));
    const unknown = parsed.data.relevant.filter((r) => !ids.has(r));
    if (unknown.length)
      throw new Error(`${where} line ${i + 1}: relevant id(s) ${unknown.join(", ")} not among the candidates`);
    queries.push(parsed.data);
  });
  if (queries.length === 0) throw new Error(`${where}: no queries`);
  return queries;
}

/** A model's labelled set file (models[].quality.labelledSet), relative to the project directory. */
export function readLabelledSetFile(file: string, configPath: string): LabelledQuery[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(
      `${configPath}.quality.labelledSet: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Fix: give a JSONL file path relative to the project directory.`,
    );
  }
  return parseLabelledSet(text, `${configPath}.quality.labelledSet ${file}`);
}
