// Image to code: POST /v1/stem/image-to-code with stream=true (progress events, then the result),
// and the second tab's POST /v1/stem/render and /v1/stem/score.
import { ApiError, errorFromBody, postEvents, postForm, postJson } from "./api.js";
import { $, el, fillPairs, fillTable, fixed, loaded, pngDataUrl, run, seconds } from "./view.js";

const METRICS = ["ssim", "edge", "text_f1", "layout_f1", "type_f1", "color_f1"];
const STAGE_WORDS = { generated: "written", rendered: "rendered", scored: "scored", best_chosen: "chosen as best",
                      refined: "rendered and scored" };

function fidelityRows(fidelity) {
  if (!fidelity) return [["fidelity", "not computed"]];
  return [["aggregate", fixed(fidelity.aggregate)], ["mode", fidelity.mode],
          ...METRICS.filter((name) => fidelity.computed.includes(name)).map((name) => [name, fixed(fidelity[name])])];
}

function progress(event) {
  const bar = $("stem-progress");
  bar.max = event.total;
  bar.value = event.completed;
  const who = event.stage === "scored" ? "candidates"
    : event.stage === "refined" ? `refinement try ${event.completed}` : `candidate ${event.candidate_index}`;
  const status = event.candidate_status ? ` (${event.candidate_status})` : "";
  $("stem-events").append(el("li", { text: `${who} ${STAGE_WORDS[event.stage] || event.stage}${status}`,
                                     dataset: { stage: event.stage } }));
  $("stem-status").textContent = event.stage === "refined"
    ? `Refining the best program: try ${event.completed} of at most ${event.total}...`
    : `${event.completed} of ${event.total} candidates ${STAGE_WORDS[event.stage] || event.stage}...`;
}

// Where a program came from, with its source: the engine program retrieved, or the candidate refined.
function origin(candidate) {
  if (candidate.origin === "retrieval" && candidate.neighbour) {
    return `retrieval (${candidate.neighbour.family}, rank ${candidate.neighbour.rank})`;
  }
  if (candidate.origin === "refined") return `refined from ${candidate.refined_from}`;
  return candidate.origin || "-";
}

function ranked(candidates) {
  const score = (candidate) => (candidate.fidelity ? candidate.fidelity.aggregate : -Infinity);
  return [...candidates].sort((a, b) => score(b) - score(a) || a.index - b.index);
}

async function showResult(result, inputUrl) {
  $("stem-result").hidden = false;
  await loaded($("stem-input"), inputUrl);
  const render = $("stem-render");
  if (result.render_png_base64) {
    await loaded(render, pngDataUrl(result.render_png_base64));
    render.hidden = false;
    $("stem-render-caption").textContent = `Best render (candidate ${result.best_index})`;
  } else {
    render.removeAttribute("src");
    render.hidden = true;
    $("stem-render-caption").textContent = "No candidate rendered a figure";
  }
  $("stem-code").textContent = result.code;
  fillPairs($("stem-fidelity"), fidelityRows(result.fidelity));
  $("stem-caption").textContent = result.caption || "(no caption: nothing was drawn)";
  fillTable($("stem-candidates-table"), ["rank", "candidate", "origin", "status", "aggregate", "generation", "render",
                                          "code"],
            ranked(result.candidates).map((candidate, rank) => [
              rank + 1, candidate.index + (candidate.index === result.best_index ? " (best)" : ""),
              origin(candidate),
              candidate.status + (candidate.detail ? `: ${candidate.detail}` : ""),
              candidate.fidelity ? fixed(candidate.fidelity.aggregate) : "-",
              seconds(candidate.timings.generation_s), seconds(candidate.timings.render_s),
              el("details", {}, el("summary", { text: "show" }), el("pre", { class: "code", text: candidate.code }))]));
  return `Done in ${seconds(result.total_s)} by ${result.model} (${result.backend} backend).`;
}

async function imageToCode() {
  const file = $("stem-file").files[0];
  if (!file) throw new Error("Choose a figure first.");
  const form = new FormData();
  form.append("image", file);
  form.append("candidates", $("stem-candidates").value);
  form.append("stream", "true");
  $("stem-result").hidden = true;
  $("stem-events").replaceChildren();
  $("stem-progress").value = 0;
  $("stem-progress-box").hidden = false;
  let result = null;
  await postEvents("v1/stem/image-to-code", { form }, ({ event, data }) => {
    const payload = JSON.parse(data);
    if (event === "progress") progress(payload);
    else if (event === "result") result = payload;
    else if (event === "error") throw errorFromBody(0, payload, null);
  });
  if (!result) throw new ApiError("The stream ended without a result.");
  return showResult(result, URL.createObjectURL(file));
}

async function showImage(base64, format, caption) {
  const image = $("code-image");
  if (base64) {
    await loaded(image, pngDataUrl(base64, format));
    image.hidden = false;
  } else {
    image.removeAttribute("src");
    image.hidden = true;
  }
  $("code-image-caption").textContent = caption;
}

async function renderCode() {
  const response = await postJson("v1/stem/render", { code: $("code-text").value });
  $("code-result").hidden = false;
  $("code-reference-figure").hidden = true;
  const first = response.images[0];
  await showImage(first && first.data_base64, first && first.format,
                  first ? `Render (${first.width} x ${first.height})` : "No figure");
  fillPairs($("code-details"), [["status", response.status], ["detail", response.detail || "-"],
                                ["wall time", seconds(response.usage.wall_s)],
                                ["peak memory", `${(response.usage.peak_memory_bytes / 2 ** 20).toFixed(1)} MiB`],
                                ...(response.error ? [["error", `${response.error.type}: ${response.error.message}`]] : [])]);
  const output = [response.stdout.text && `stdout:\n${response.stdout.text}`,
                  response.stderr.text && `stderr:\n${response.stderr.text}`].filter(Boolean).join("\n");
  $("code-output").textContent = output;
  $("code-output").hidden = !output;
  return `Rendered: ${response.status}.`;
}

async function scoreCode() {
  const reference = $("code-reference").files[0];
  if (!reference) throw new Error("Choose a reference image to score against.");
  const form = new FormData();
  form.append("reference_image", reference);
  form.append("candidate_code", $("code-text").value);
  const response = await postForm("v1/stem/score", form);
  $("code-result").hidden = false;
  $("code-reference-figure").hidden = false;
  await loaded($("code-reference-image"), URL.createObjectURL(reference));
  await showImage(response.candidate_render_png_base64, "png", `Render (${response.candidate_status})`);
  fillPairs($("code-details"), [["status", response.candidate_status],
                                ["detail", response.candidate_detail || "-"], ...fidelityRows(response.fidelity)]);
  $("code-output").hidden = true;
  return `Scored: aggregate ${fixed(response.fidelity.aggregate)}.`;
}

async function copyCode() {
  const code = $("stem-code").textContent;
  try {
    await navigator.clipboard.writeText(code);
  } catch {
    // Clipboard access needs a secure context (https or localhost): select the code instead.
    getSelection().selectAllChildren($("stem-code"));
    document.execCommand("copy");
  }
  $("stem-copy").textContent = "Copied";
  setTimeout(() => { $("stem-copy").textContent = "Copy code"; }, 1500);
}

export function installStem() {
  $("stem-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("stem", "Sending the figure...", imageToCode, [$("stem-submit")]);
  });
  $("stem-copy").addEventListener("click", copyCode);
  const buttons = [$("code-render"), $("code-score")];
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("code", "Rendering in the sandbox...", renderCode, buttons);
  });
  $("code-score").addEventListener("click", () => run("code", "Scoring...", scoreCode, buttons));
}
