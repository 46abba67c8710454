// QMD's SDK driven from qmd-reward (evals/qmd_runner.py): expand and query.
//
// Reads one JSON request on stdin and prints one line per item on stdout, each starting
// with MARK so that anything else a native library prints there is ignored by the reader.
// Request fields:
//   qmd      file URL of the installed QMD package's dist/index.js (it has no global name)
//   db       the index (INDEX_PATH), config  index.yml with the models block
//   threads  node-llama-cpp's maxThreads: the one supported thread cap (QMD sets none)
//   action   "query" | "typed"
//   items    query: [{id, query}] (or [{id, query, lines}]: hybridQuery with that expansion
//            instead of the model's), typed: [{id, query, lines: [{type, query}]}]
//   expand   query only: false gives the raw query with no expansion model
//   limit    results per query
// Each item's line: {id, expansion, expansion_used, strong_signal, fallback, results, error}.
const MARK = "@@qmd-reward ";

const started = Date.now();
// Phase timings on stderr, for finding where a slow run spends its time.
function trace(what) {
  if (process.env.QMD_REWARD_SDK_TRACE) {
    process.stderr.write(`[qmd_sdk ${((Date.now() - started) / 1000).toFixed(1)} s] ${what}\n`);
  }
}

function emit(row) {
  process.stdout.write(MARK + JSON.stringify(row) + "\n");
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function resultRows(hits) {
  return hits.map((hit) => ({
    file: hit.file,
    display_path: hit.displayPath,
    docid: hit.docid,
    title: hit.title,
    score: hit.score,
  }));
}

// QMD's LlamaCpp.expandQuery catches its own failures and answers with a fallback list,
// saying so only through console.error: listen there so a record can carry the failure.
async function expandWatched(internal, query) {
  const said = [];
  const original = console.error;
  console.error = (...args) => {
    said.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
    original(...args);
  };
  try {
    const expansion = await internal.expandQuery(query);
    const failed = said.find((text) => text.includes("expansion failed"));
    return { expansion, failure: failed ?? null };
  } finally {
    console.error = original;
  }
}

async function main() {
  const request = await readStdin();
  const qmd = await import(request.qmd);
  const store = await qmd.createStore({ dbPath: request.db, configPath: request.config });
  try {
    const llama = await store.internal.llm.ensureLlama();
    // Contexts created later default to this; QMD's expansion context passes no threads.
    if (request.threads > 0) llama.maxThreads = request.threads;
    trace(`llama ready, maxThreads ${llama.maxThreads}, cpuMathCores ${llama.cpuMathCores}`);
    // hybridQuery asks store.internal.expandQuery for the expansion. While it searches,
    // that call is answered with the expansion this script already has (as QMD's own
    // cache would answer it), and the script notes that hybridQuery asked: it does not
    // when its first BM25 probe is a strong signal.
    const internal = store.internal;
    const generate = internal.expandQuery.bind(internal);
    const prepared = new Map();
    const asked = new Set();
    const answer = async (query) => {
      asked.add(query);
      return prepared.get(query) ?? [];
    };
    for (const item of request.items) {
      let row;
      try {
        if (request.action === "typed") {
          const hits = await store.search({
            queries: item.lines.map((l) => ({ type: l.type, query: l.query })),
            rerank: false,
            limit: request.limit,
          });
          row = { id: item.id, expansion: item.lines, results: resultRows(hits), error: null };
        } else {
          // An item with lines brings its own expansion (a reference one), fused by
          // hybridQuery as the model's would be; otherwise the model expands (QMD's
          // prompt, grammar and sampling), unless the request is for the raw query.
          let out = { expansion: [], failure: null };
          if (item.lines) {
            out = { expansion: item.lines, failure: null };
          } else if (request.expand) {
            trace(`${item.id}: expanding`);
            internal.expandQuery = generate;
            out = await expandWatched(internal, item.query);
          }
          const expanding = Boolean(item.lines) || Boolean(request.expand);
          prepared.set(item.query, out.expansion);
          asked.delete(item.query);
          internal.expandQuery = answer;
          trace(`${item.id}: searching`);
          const hits = await store.search({ query: item.query, rerank: false, limit: request.limit });
          const used = expanding && asked.has(item.query);
          row = {
            id: item.id,
            expansion: out.expansion.map((q) => ({ type: q.type, query: q.query })),
            expansion_used: used,
            strong_signal: expanding && !used,
            fallback: out.failure,
            results: resultRows(hits),
            error: null,
          };
        }
      } catch (error) {
        row = { id: item.id, error: error instanceof Error ? error.message : String(error) };
      }
      emit(row);
    }
  } finally {
    await store.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`qmd_sdk.mjs: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
