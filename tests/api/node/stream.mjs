// Streams one chat completion from aiadmin's HTTP API with the official openai package for
// Node.js and prints what arrived as one JSON line on stdout: the joined text, the chunk
// counts, the usage chunk, the model ids and finish reasons the chunks carried.
//
// Environment: AIADMIN_API_BASE (e.g. http://127.0.0.1:8000/v1), AIADMIN_API_TOKEN,
// AIADMIN_MODEL, AIADMIN_PROMPT. An SDK error is printed as {"error": {...}} with exit code 2.
import OpenAI from "openai";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(64);
  }
  return value;
}

const client = new OpenAI({
  baseURL: required("AIADMIN_API_BASE"),
  apiKey: required("AIADMIN_API_TOKEN"),
  maxRetries: 0,
  timeout: 30_000,
});

try {
  const stream = await client.chat.completions.create({
    model: required("AIADMIN_MODEL"),
    messages: [{ role: "user", content: required("AIADMIN_PROMPT") }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let chunks = 0;
  let contentChunks = 0;
  let usage = null;
  const models = new Set();
  const ids = new Set();
  const finishReasons = [];
  for await (const chunk of stream) {
    chunks += 1;
    models.add(chunk.model);
    ids.add(chunk.id);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta?.content) {
        text += choice.delta.content;
        contentChunks += 1;
      }
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
    }
  }
  console.log(
    JSON.stringify({ text, chunks, contentChunks, usage, models: [...models], ids: [...ids], finishReasons }),
  );
} catch (err) {
  if (err instanceof OpenAI.APIError) {
    console.log(JSON.stringify({ error: { name: err.constructor.name, status: err.status ?? null, code: err.code ?? null, message: err.message } }));
    process.exit(2);
  }
  throw err;
}
