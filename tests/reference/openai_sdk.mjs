// Calls a gated chat API with the official `openai` npm client, exactly as
// an application would, except for the credential header it adds: the
// answers the SDK parses are printed for the test to compare with what the
// upstream sent.
//
// stdin:  { base_url, calls: [{ kind: "json" | "stream", params, credential }] }
// stdout: { results: [{ ok, error?, completion?, chunks?, refund_header? }] }

import { readFileSync } from "node:fs";
import OpenAI from "openai";

const spec = JSON.parse(readFileSync(0, "utf8"));
const results = [];

for (const call of spec.calls) {
    const client = new OpenAI({
        apiKey: "unused-by-the-gateway",
        baseURL: spec.base_url,
        maxRetries: 0,
        defaultHeaders: { "ZKCredit-Credential": call.credential },
    });
    try {
        if (call.kind === "stream") {
            const stream = await client.chat.completions.create(call.params);
            const chunks = [];
            for await (const chunk of stream) chunks.push(chunk);
            results.push({ ok: true, chunks });
        } else {
            const { data, response } = await client.chat.completions.create(call.params).withResponse();
            results.push({ ok: true, completion: data, refund_header: response.headers.get("zkcredit-refund") });
        }
    } catch (e) {
        results.push({ ok: false, error: String(e) });
    }
}

process.stdout.write(JSON.stringify({ results }) + "\n");
