// Ask a document. Page images go to POST /v1/chat/completions with stream=true; a PDF goes to
// POST /v1/documents/vqa with stream=true (the route that reads PDFs, pages chosen server-side).
// Either way the answer appears as the model writes it, and the pages read are shown as thumbnails.
import { ApiError, errorFromBody, postEvents } from "./api.js";
import { chatModel, loadModels } from "./header.js";
import { pagePng } from "./pdf.js";
import { $, el, isPdf, run, seconds } from "./view.js";

function dataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function thumbnails(items) {
  $("ask-thumbs").replaceChildren(...items.map(({ src, label }) =>
    el("li", {}, el("figure", {}, el("img", { src, alt: label }), el("figcaption", { text: label })))));
}

async function askImages(files, question, maxTokens) {
  if (!chatModel()) await loadModels();
  const model = chatModel();
  if (!model) throw new ApiError("No chat model is served (GET /v1/models lists none with task chat).");
  const images = await Promise.all(files.map(dataUrl));
  thumbnails(files.map((file, index) => ({ src: URL.createObjectURL(file), label: `image ${index + 1}: ${file.name}` })));
  const content = [...images.map((url) => ({ type: "image_url", image_url: { url } })), { type: "text", text: question }];
  const answer = $("ask-answer");
  let finish = null;
  let usage = null;
  let finished = false;
  const started = performance.now();
  await postEvents("v1/chat/completions", {
    json: { model, stream: true, stream_options: { include_usage: true }, max_tokens: maxTokens,
            messages: [{ role: "user", content }] },
  }, ({ data }) => {
    if (data === "[DONE]") { finished = true; return; }
    const chunk = JSON.parse(data);
    if (chunk.error) throw errorFromBody(0, chunk, null);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices || []) {
      if (choice.delta && choice.delta.content) answer.textContent += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  });
  if (!finished) throw new ApiError("The answer stream ended before it was complete.");
  $("ask-meta").textContent = `${model}, finish: ${finish}` +
    (usage ? `, ${usage.prompt_tokens} prompt + ${usage.completion_tokens} answer tokens` : "") +
    `, ${seconds((performance.now() - started) / 1000)} (streamed by /v1/chat/completions)`;
  return "Answered.";
}

async function askPdf(pdf, pages, question, maxTokens) {
  const form = new FormData();
  form.append("pdf", pdf);
  if (pages) form.append("pages", pages);
  form.append("question", question);
  form.append("max_tokens", String(maxTokens));
  form.append("stream", "true");
  const answer = $("ask-answer");
  let response = null;
  // delta events carry the answer's text as it is written; the result event is the whole response.
  await postEvents("v1/documents/vqa", { form }, ({ event, data }) => {
    const payload = JSON.parse(data);
    if (event === "delta") answer.textContent += payload.text;
    else if (event === "result") response = payload;
    else if (event === "error") throw errorFromBody(0, payload, null);
  });
  if (!response) throw new ApiError("The answer stream ended before it was complete.");
  const t = response.timings;
  $("ask-meta").textContent = `${response.model.name}, finish: ${response.finish_reason}, ` +
    `${response.usage.prompt_tokens} prompt + ${response.usage.completion_tokens} answer tokens, ` +
    `first token ${seconds(t.time_to_first_token_s)}, total ${seconds(t.total_s)} (streamed by /v1/documents/vqa)`;
  thumbnails(await Promise.all(response.pages.map(async (page) => ({
    src: URL.createObjectURL(await pagePng(pdf, page.page, 360)),
    label: `page ${page.page} (${page.width} x ${page.height})`,
  }))));
  return "Answered.";
}

export function installAsk() {
  $("ask-files").addEventListener("change", () => {
    const files = [...$("ask-files").files];
    $("ask-pages-field").hidden = !files.some(isPdf);
  });
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("ask", "Reading the document...", async () => {
      const files = [...$("ask-files").files];
      if (!files.length) throw new Error("Choose page images or a PDF first.");
      const pdfs = files.filter(isPdf);
      if (pdfs.length && files.length > 1) throw new Error("Choose either page images or one PDF, not both.");
      $("ask-result").hidden = false;
      $("ask-answer").textContent = "";
      $("ask-meta").textContent = "";
      $("ask-thumbs").replaceChildren();
      const question = $("ask-question").value;
      const maxTokens = Number($("ask-max-tokens").value) || 64;
      return pdfs.length ? askPdf(pdfs[0], $("ask-pages").value.trim(), question, maxTokens)
                         : askImages(files, question, maxTokens);
    }, [$("ask-submit")]);
  });
}
