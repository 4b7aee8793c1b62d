// The header: served models (GET /v1/models), readiness per domain (GET /readyz?domain=...), the key.
import { ApiError, apiKey, getJson, setApiKey } from "./api.js";
import { $, el } from "./view.js";

const DOMAINS = ["text", "stem"];
let models = [];

// The model a chat request names (the first `chat` card), once the list is loaded.
export function chatModel() {
  const card = models.find((model) => model.task === "chat");
  return card ? card.id : null;
}

export async function loadModels() {
  const list = $("models");
  const error = $("header-error");
  try {
    models = (await getJson("v1/models")).data;
    error.hidden = true;
    list.replaceChildren(...(models.length ? models.map((model) =>
      el("li", { class: `chip ${model.ready ? "ok" : "bad"}`, dataset: { model: model.id, task: model.task },
                 title: model.revision ? `revision ${model.revision}` : (model.backend || "") },
         el("strong", { text: model.id }), ` ${model.task}${model.ready ? "" : " (not ready)"}`))
      : [el("li", { class: "muted", text: "no model is served" })]));
  } catch (failure) {
    models = [];
    list.replaceChildren(el("li", { class: "muted", text: "unknown" }));
    error.textContent = `Models: ${failure.message}`;
    error.hidden = false;
    if (failure instanceof ApiError && failure.status === 401) $("api-key").focus();
  }
}

async function domainReadiness(domain) {
  try {
    await getJson(`readyz?domain=${domain}`);
    return el("li", { class: "chip ok", dataset: { domain, ready: "true" } }, el("strong", { text: domain }), " ready");
  } catch (failure) {
    const why = failure instanceof ApiError && failure.status === 503 ? "not ready" : failure.message;
    return el("li", { class: "chip bad", dataset: { domain, ready: "false" }, title: failure.message },
              el("strong", { text: domain }), ` ${why}`);
  }
}

export async function loadReadiness() {
  $("readiness").replaceChildren(...await Promise.all(DOMAINS.map(domainReadiness)));
}

export function installKeyForm() {
  $("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey($("api-key").value.trim());
    loadModels();
  });
}
