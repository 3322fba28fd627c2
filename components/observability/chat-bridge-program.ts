import * as fs from "node:fs";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../package-root";

/** The chat bridge's program (images/chat-bridge/src/chat-bridge.js), shipped verbatim in its ConfigMap. */
const CHAT_BRIDGE_FILE = path.join(PACKAGE_ROOT, "images/chat-bridge/src/chat-bridge.js");

/** The program's text, read once when this module loads (the ConfigMap's `chat-bridge.js`). */
export const CHAT_BRIDGE_SCRIPT = fs.readFileSync(CHAT_BRIDGE_FILE, "utf8");
