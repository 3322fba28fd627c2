import * as path from "node:path";

/**
 * The package's root: the repository root when running from sources (components/), the installed package's root
 * when running the compiled library (dist/components/). Files that are not TypeScript (the chat bridge's program)
 * and the images' build context are found from here.
 */
export const PACKAGE_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? "../.." : "..");
