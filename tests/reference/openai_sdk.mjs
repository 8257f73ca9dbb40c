// Calls a chat API with the official `openai` npm client, exactly as an
// application would: against the gateway with a credential header added,
// or against `zkcredit proxy` with nothing but its base URL and local token
// (api_key). The answers the SDK parses are printed for the test to compare
// with what the upstream sent.
//
// stdin:  { base_url, api_key?, calls: [{ kind: "json" | "stream" | "models", params?, credential? }] }
// stdout: { results: [{ ok, error?, status?, error_body?, completion?, chunks?, models?,
//                       refund_header? }] }

import { readFileSync } from "node:fs";
import OpenAI from "openai";

const spec = JSON.parse(readFileSync(0, "utf8"));
const results = [];

for (const call of spec.calls) {
    const client = new OpenAI({
        apiKey: spec.api_key ?? "unused-by-the-gateway",
        baseURL: spec.base_url,
        maxRetries: 0,
        defaultHeaders: call.credential ? { "ZKCredit-Credential": call.credential } : {},
    });
    try {
        if (call.kind === "stream") {
            const stream = await client.chat.completions.create(call.params);
            const chunks = [];
            for await (const chunk of stream) chunks.push(chunk);
            results.push({ ok: true, chunks });
        } else if (call.kind === "models") {
            const models = [];
            for await (const model of client.models.list()) models.push(model);
            results.push({ ok: true, models });
        } else {
            const { data, response } = await client.chat.completions.create(call.params).withResponse();
            results.push({ ok: true, completion: data, refund_header: response.headers.get("zkcredit-refund") });
        }
    } catch (e) {
        results.push({ ok: false, error: String(e), status: e.status, error_body: e.error });
    }
}

process.stdout.write(JSON.stringify({ results }) + "\n");
