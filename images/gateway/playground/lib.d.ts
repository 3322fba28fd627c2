// Types of lib.js for the TypeScript tests that import it (the page itself is plain JavaScript, no build step).
export declare const EXAMPLE_QUERY: string;
export declare const EXAMPLE_DOCUMENTS: readonly string[];
export declare function parseTexts(raw: string): string[];
export declare function norm(v: readonly number[]): number;
export declare function cosine(a: readonly number[], b: readonly number[]): number;
export declare function similarityMatrix(vectors: readonly (readonly number[])[]): number[][];
export declare function decodeBase64Float32(b64: string): number[];
export declare function barWidths(scores: readonly number[]): number[];
export interface RankDiff {
  readonly index: number;
  readonly rank: number;
  readonly otherRank: number | undefined;
  readonly moved: boolean;
}
export declare function orderDiff(a: readonly number[], b: readonly number[]): RankDiff[];
export declare function heatColour(similarity: number): string;
export declare function curlFor(baseUrl: string, path: string, body: unknown): string;
export declare function openaiCodeFor(
  baseUrl: string,
  body: { model: string; input: string | readonly string[]; encoding_format?: string; dimensions?: number },
): string;
export declare function errorText(status: number, retryAfter: string | null, bodyText: string): string;
