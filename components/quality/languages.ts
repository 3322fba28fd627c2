/**
 * Which part of the bundled labelled set fits a model: the queries (and corpus passages) in the languages the
 * model states (catalogue `languages`, or `spec.languages`). An English-only model is judged on the English
 * queries only, a Chinese one on the Chinese; "multilingual" and a model that states nothing get the whole set.
 * Pure: the set itself lives with the verifier (quality-set.ts); this only decides and describes.
 */

/** Languages the bundled labelled set, the canary's bundled set and the fingerprint probes cover. */
const LABELLED_LANGUAGES: readonly string[] = ["zh", "en"];

/** The language of one labelled text: Chinese when it holds CJK ideographs, else English. */
export function textLanguage(text: string): "zh" | "en" {
  return /[\u4e00-\u9fff]/.test(text) ? "zh" : "en";
}

/**
 * The labelled languages a model is judged on: its own among LABELLED_LANGUAGES; all of them for
 * "multilingual" or no statement; [] when none match (the check cannot judge it: a plan warning says so).
 */
export function qualityLanguages(modelLanguages: readonly string[] | undefined): string[] {
  if (!modelLanguages || modelLanguages.includes("multilingual")) return [...LABELLED_LANGUAGES];
  return LABELLED_LANGUAGES.filter((l) => modelLanguages.includes(l));
}

/** Keeps the items in `languages` (by their text); the whole list when `languages` covers all. */
export function inLanguages<T>(items: readonly T[], languages: readonly string[], textOf: (item: T) => string): T[] {
  return items.filter((x) => languages.includes(textLanguage(textOf(x))));
}

/** For reports: "36 labelled queries (20 zh, 16 en)" or "16 labelled queries in en (20 zh skipped: the model is en only)". */
export function scopeText(
  all: readonly { query: string }[],
  languages: readonly string[],
  modelLanguages?: readonly string[],
): string {
  const count = (l: string) => all.filter((q) => textLanguage(q.query) === l).length;
  const used = all.filter((q) => languages.includes(textLanguage(q.query))).length;
  const skipped = LABELLED_LANGUAGES.filter((l) => !languages.includes(l));
  if (skipped.length === 0)
    return `${used} labelled queries (${LABELLED_LANGUAGES.map((l) => `${count(l)} ${l}`).join(", ")})`;
  return `${used} labelled queries in ${languages.join(", ")} (${skipped.map((l) => `${count(l)} ${l}`).join(", ")} skipped: the model is ${(modelLanguages ?? []).join(", ")} only)`;
}

/** The plan warning for a model the bundled set cannot judge, or undefined. */
export function noMatchWarning(model: string, modelLanguages: readonly string[] | undefined): string | undefined {
  if (qualityLanguages(modelLanguages).length > 0) return undefined;
  return `${model} is a ${(modelLanguages ?? []).join(", ")} model and the bundled labelled set holds only ${LABELLED_LANGUAGES.join(" and ")} queries: the post-deploy quality check and the canary's bundled quality cannot judge it (its fingerprint still uses every probe). Fix: supply your own labelled set in its languages (models[].quality.labelledSet, JSONL; docs/model-changes.md).`;
}
