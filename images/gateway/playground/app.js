// The playground page: wires the three tabs to the gateway's API on the same origin (docs/playground.md).
// Everything shown is set with textContent (no HTML from the gateway or from the texts ever reaches the DOM).
import {
  EXAMPLE_DOCUMENTS,
  EXAMPLE_QUERY,
  barWidths,
  curlFor,
  decodeBase64Float32,
  errorText,
  heatColour,
  norm,
  openaiCodeFor,
  orderDiff,
  parseTexts,
  similarityMatrix,
} from "./lib.js";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "retrieval-playground.api-key";
const BASE = location.origin;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "style") Object.assign(e.style, v);
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "title") e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

/** Calls the gateway; resolves with the parsed answer and the latency, rejects with the text the page shows. */
async function call(path, body) {
  const key = $("api-key").value.trim();
  const headers = { ...(body ? { "content-type": "application/json" } : {}) };
  if (key) headers.authorization = `Bearer ${key}`;
  const started = performance.now();
  let res;
  try {
    res = await fetch(path, { method: body ? "POST" : "GET", headers, body: body ? JSON.stringify(body) : undefined });
  } catch (e) {
    throw new Error(`Cannot reach the gateway at ${BASE}: ${e.message}`);
  }
  const text = await res.text();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(errorText(res.status, res.headers.get("retry-after"), text));
  try {
    return { json: JSON.parse(text), ms, requestId: res.headers.get("x-request-id") };
  } catch {
    throw new Error(`${res.status}: the gateway answered something that is not JSON.`);
  }
}

function showError(prefix, message) {
  const e = $(`${prefix}-error`);
  e.textContent = message;
  e.hidden = !message;
}

/** Runs one tab's action with its button disabled, turning any failure into the tab's error line. */
async function running(prefix, action) {
  const button = $(`${prefix}-run`);
  if (button.disabled) return;
  button.disabled = true;
  showError(prefix, "");
  $(`${prefix}-meta`).textContent = "Running…";
  // Results of an earlier run stay on screen after a failure, faded so they are not taken for this run's.
  const outputs = document.querySelector(`#panel-${prefix} .outputs`);
  try {
    await action();
    outputs.classList.remove("stale");
  } catch (e) {
    $(`${prefix}-meta`).textContent = "";
    showError(prefix, e.message);
    outputs.classList.add("stale");
  } finally {
    button.disabled = false;
  }
}

// --- models -------------------------------------------------------------------------------------------------

async function loadModels() {
  const status = $("models-status");
  status.textContent = "Loading models…";
  status.classList.remove("error");
  let models;
  try {
    models = (await call("/v1/models")).json.data;
  } catch (e) {
    status.textContent = `Models could not be loaded: ${e.message}`;
    status.classList.add("error");
    return;
  }
  for (const select of document.querySelectorAll("select[data-task]")) {
    const task = select.dataset.task;
    const previous = select.value;
    const fitting = models.filter((m) => m.task === task);
    select.replaceChildren(
      ...fitting.map((m) =>
        el(
          "option",
          { value: m.id },
          `${m.id}${m.alias_of ? ` → ${m.alias_of}` : ""}${m.dims ? ` (${m.dims} dims)` : ""}`,
        ),
      ),
    );
    if (fitting.some((m) => m.id === previous)) select.value = previous;
    else if (select.dataset.pick === "second" && fitting.length > 1) select.value = fitting[1].id;
  }
  const count = (task) => models.filter((m) => m.task === task).length;
  status.textContent = `${models.length} models: ${count("rerank")} rerank, ${count("embed")} embedding.`;
}

// --- rerank ---------------------------------------------------------------------------------------------------

function rerankBody(prefix, model) {
  const query = $(`${prefix}-query`).value.trim();
  if (!query) throw new Error("Enter a query.");
  const documents = parseTexts($(`${prefix}-docs`).value);
  if (!documents.length) throw new Error("Enter at least one document.");
  if (!model) throw new Error("No rerank model selected: load the models with a valid API key.");
  const topN = $(`${prefix}-topn`).value.trim();
  return { model, query, documents, ...(topN ? { top_n: Number(topN) } : {}), return_documents: true };
}

/** A ranked list: rank, score bar, original index, text; `diff` (from orderDiff) marks where another list differs. */
function renderRanking(ol, results, documents, diff, otherName) {
  const widths = barWidths(results.map((r) => r.relevance_score));
  ol.replaceChildren(
    ...results.map((r, i) => {
      const d = diff?.[i];
      const where = !d
        ? []
        : [
            el(
              "span",
              { class: "where" },
              !d.moved
                ? `same rank in ${otherName}`
                : d.otherRank === undefined
                  ? `not in ${otherName}'s top_n`
                  : `#${d.otherRank + 1} in ${otherName}`,
            ),
          ];
      return el(
        "li",
        { class: d?.moved ? "moved" : "", "data-index": String(r.index), "data-score": String(r.relevance_score) },
        el("span", { class: "rank", "aria-label": `rank ${i + 1}` }, String(i + 1)),
        el(
          "div",
          { class: "score" },
          el(
            "span",
            { class: "track" },
            el("span", {
              class: "bar",
              role: "img",
              "aria-label": `score ${r.relevance_score.toFixed(4)}`,
              style: { width: `${(widths[i] * 100).toFixed(1)}%` },
            }),
          ),
          el("span", { class: "value" }, r.relevance_score.toFixed(4)),
          el("span", { class: "index" }, `doc #${r.index}`),
          ...where,
        ),
        el("div", { class: "text" }, r.document?.text ?? documents[r.index] ?? ""),
      );
    }),
  );
}

function meta(model, ms, usage, extra, requestId) {
  const tokens = usage?.total_tokens ?? usage?.prompt_tokens;
  return [
    model,
    `${Math.round(ms)} ms`,
    tokens === undefined ? "tokens not reported" : `${tokens} tokens`,
    extra,
    requestId ? `request ${requestId}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

function runRerank() {
  return running("rerank", async () => {
    const body = rerankBody("rerank", $("rerank-model").value);
    const r = await call("/v1/rerank", body);
    renderRanking($("rerank-results"), r.json.results, body.documents);
    $("rerank-meta").textContent = meta(
      r.json.model,
      r.ms,
      r.json.usage,
      `${body.documents.length} documents`,
      r.requestId,
    );
  });
}

// --- embeddings -----------------------------------------------------------------------------------------------

function embedBody() {
  const input = parseTexts($("embed-texts").value);
  if (input.length < 2) throw new Error("Enter two or more texts to compare.");
  const model = $("embed-model").value;
  if (!model) throw new Error("No embedding model selected: load the models with a valid API key.");
  const dims = $("embed-dimensions").value.trim();
  // Floats, so the page needs no decoding; base64 answers (little-endian float32) are decoded all the same.
  return { model, input, encoding_format: "float", ...(dims ? { dimensions: Number(dims) } : {}) };
}

function renderEmbeddings(texts, vectors) {
  const norms = $("embed-norms");
  norms.tBodies[0].replaceChildren(
    ...texts.map((t, i) =>
      el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, t), el("td", {}, norm(vectors[i]).toFixed(4))),
    ),
  );
  norms.hidden = false;
  const sim = similarityMatrix(vectors);
  const heat = $("embed-heatmap");
  heat.replaceChildren(
    el("caption", { class: "note" }, "Pairwise cosine similarity (row and column numbers are the texts above)"),
    el("tr", {}, el("th", {}, ""), ...texts.map((t, j) => el("th", { scope: "col", title: t }, String(j + 1)))),
    ...sim.map((row, i) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", title: texts[i] }, String(i + 1)),
        ...row.map((s, j) =>
          el(
            "td",
            {
              "data-i": String(i),
              "data-j": String(j),
              "data-similarity": String(s),
              "aria-label": `cosine of text ${i + 1} and text ${j + 1}: ${s.toFixed(3)}`,
              title: `${texts[i]}\n${texts[j]}`,
              style: { background: heatColour(s), color: s > 0.6 ? "white" : "inherit" },
            },
            s.toFixed(3),
          ),
        ),
      ),
    ),
  );
  heat.hidden = false;
}

function runEmbeddings() {
  return running("embed", async () => {
    const body = embedBody();
    const r = await call("/v1/embeddings", body);
    const data = [...r.json.data].sort((a, b) => a.index - b.index);
    const vectors = data.map((d) => (typeof d.embedding === "string" ? decodeBase64Float32(d.embedding) : d.embedding));
    renderEmbeddings(body.input, vectors);
    $("embed-meta").textContent = meta(
      r.json.model,
      r.ms,
      r.json.usage,
      `${vectors[0]?.length ?? 0} dimensions`,
      r.requestId,
    );
  });
}

// --- compare --------------------------------------------------------------------------------------------------

function runCompare() {
  return running("compare", async () => {
    const a = $("compare-model-a").value;
    const b = $("compare-model-b").value;
    const bodyA = rerankBody("compare", a);
    const bodyB = { ...bodyA, model: b };
    const [ra, rb] = await Promise.allSettled([call("/v1/rerank", bodyA), call("/v1/rerank", bodyB)]);
    $("compare-title-a").textContent = `A: ${a}`;
    $("compare-title-b").textContent = `B: ${b}`;
    const failed = [ra, rb].flatMap((r, i) => (r.status === "rejected" ? [`${"AB"[i]}: ${r.reason.message}`] : []));
    const order = (r) => (r.status === "fulfilled" ? r.value.json.results.map((x) => x.index) : undefined);
    const oa = order(ra);
    const ob = order(rb);
    const both = oa && ob;
    for (const [r, ol, mine, other, name] of [
      [ra, $("compare-results-a"), oa, ob, "B"],
      [rb, $("compare-results-b"), ob, oa, "A"],
    ]) {
      if (r.status === "fulfilled")
        renderRanking(ol, r.value.json.results, bodyA.documents, both ? orderDiff(mine, other) : undefined, name);
      else ol.replaceChildren();
    }
    showError("compare", failed.join("\n"));
    if (!both) {
      $("compare-meta").textContent = "";
      return;
    }
    const moved = orderDiff(oa, ob).filter((d) => d.moved).length;
    $("compare-meta").textContent =
      `${moved === 0 ? "Same order" : `Orders differ at ${moved} of ${oa.length} ranks`} · ` +
      `A ${Math.round(ra.value.ms)} ms, B ${Math.round(rb.value.ms)} ms`;
  });
}

// --- snippets -------------------------------------------------------------------------------------------------

async function copySnippet(prefix, build) {
  const pre = $(`${prefix}-snippet`);
  let text;
  try {
    text = build();
  } catch (e) {
    showError(prefix, e.message);
    return;
  }
  showError(prefix, "");
  pre.textContent = text;
  pre.hidden = false;
  try {
    await navigator.clipboard.writeText(text);
    $(`${prefix}-meta`).textContent = "Copied to the clipboard (the key is read from $RETRIEVAL_API_KEY).";
  } catch {
    // No clipboard access (plain http on a non-local host): the snippet is shown, selected, to copy by hand.
    getSelection().selectAllChildren(pre);
    $(`${prefix}-meta`).textContent = "The clipboard is not available here: the snippet below is selected, copy it.";
  }
}

// --- page -----------------------------------------------------------------------------------------------------

const RUNS = { rerank: runRerank, embed: runEmbeddings, compare: runCompare };

function selectTab(tab) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
}

function init() {
  const key = $("api-key");
  key.value = sessionStorage.getItem(KEY_STORAGE) ?? "";
  key.addEventListener("input", () => sessionStorage.setItem(KEY_STORAGE, key.value));
  key.addEventListener("change", () => void loadModels());
  $("load-models").addEventListener("click", () => void loadModels());

  for (const prefix of ["rerank", "compare"]) {
    $(`${prefix}-query`).value ||= EXAMPLE_QUERY;
    $(`${prefix}-docs`).value ||= EXAMPLE_DOCUMENTS.join("\n");
  }
  $("embed-texts").value ||= [
    "如何实现Python中的异步爬虫",
    "怎样用Python实现异步爬虫程序",
    "How do I write an asynchronous web crawler in Python?",
    "今天天气很好，适合去公园散步",
  ].join("\n");

  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const t of tabs) {
    t.addEventListener("click", () => selectTab(t));
    t.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = tabs[(tabs.indexOf(t) + step + tabs.length) % tabs.length];
      selectTab(next);
      next.focus();
    });
  }
  for (const [prefix, run] of Object.entries(RUNS)) $(`${prefix}-run`).addEventListener("click", () => void run());
  $("rerank-curl").addEventListener("click", () =>
    copySnippet("rerank", () => curlFor(BASE, "/v1/rerank", rerankBody("rerank", $("rerank-model").value))),
  );
  $("embed-curl").addEventListener("click", () =>
    copySnippet("embed", () => curlFor(BASE, "/v1/embeddings", embedBody())),
  );
  $("embed-openai").addEventListener("click", () => copySnippet("embed", () => openaiCodeFor(BASE, embedBody())));

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    const open = document.querySelector('[role="tab"][aria-selected="true"]');
    void RUNS[open.getAttribute("aria-controls").replace("panel-", "")]();
  });
  void loadModels();
}

init();
