// The prompt QMD's expansion call gives a model, rendered by node-llama-cpp as QMD renders it.
//
// QMD (src/llm.ts, expandQuery) opens a LlamaChatSession on the generation model without a
// system prompt and sends "/no_think Expand this search query: QUERY". This script builds the
// same session on MODEL, renders that conversation with the chat wrapper node-llama-cpp picks
// for the model, tokenizes it with the model's tokenizer and prints one JSON line:
//   {"wrapper": name, "text": detokenized prompt, special tokens shown, "tokens": [ids]}
// Usage: node qmd_prompt.mjs NODE_LLAMA_CPP_INDEX_JS MODEL.gguf QUERY
const [entry, modelPath, query] = process.argv.slice(2);
const { getLlama, LlamaChatSession } = await import(entry);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 512 });
const session = new LlamaChatSession({ contextSequence: context.getSequence() });
const wrapper = session.chatWrapper;
const history = [
  ...session.getChatHistory(),
  { type: "user", text: `/no_think Expand this search query: ${query}` },
  { type: "model", response: [] },
];
const tokens = wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
process.stdout.write(
  JSON.stringify({
    wrapper: wrapper.wrapperName ?? wrapper.constructor.name,
    text: model.detokenize(tokens, true),
    tokens: Array.from(tokens),
  }) + "\n",
);
process.exit(0);
