// Shared output helpers: stable JSON formatting so that regenerated files diff cleanly.

import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const VECTORS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const REPO_ROOT = resolve(VECTORS_DIR, "../..");

export function write_json(relative_path, value) {
    const path = resolve(VECTORS_DIR, relative_path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(value, null, 1) + "\n");
    return path;
}
