// The page's only way to the gateway: the public REST API, relative to where the page is served
// (/ui/ -> ../v1/...), so it also works behind a path-prefix proxy. Every failure becomes an
// ApiError whose message says in words what happened (status, stable code, retry hint).

const KEY_STORAGE = "percept.apiKey";
// A request that never answers must not leave a spinner forever; the gateway's own deadlines are shorter.
const REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", retryAfterS = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function apiUrl(path) {
  return new URL("../" + path.replace(/^\//, ""), document.baseURI).href;
}

function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

const STATUS_WORDS = {
  400: "Bad request", 401: "Unauthorized", 404: "Not found", 413: "Too large", 415: "Unsupported media type",
  422: "Unprocessable input", 429: "Too many requests", 502: "Upstream error", 503: "Service unavailable",
  504: "Deadline exceeded",
};

// The platform's error shape and OpenAI's (chat) both carry error.code and error.message.
export function errorFromBody(status, body, retryAfterHeader) {
  const error = (body && typeof body === "object" && body.error) || {};
  const code = error.code || "";
  const retryAfterS = retryAfterHeader != null && retryAfterHeader !== "" ? Number(retryAfterHeader)
    : (error.retry_after_s ?? null);
  let text = status ? `${status} ${STATUS_WORDS[status] || "Error"}` : "The call failed";
  if (code) text += ` (${code})`;
  text += error.message ? `: ${error.message}` : ".";
  if (status === 401) text += " Enter a valid API key at the top of the page.";
  if (retryAfterS != null && !Number.isNaN(retryAfterS)) text += ` Try again in ${retryAfterS} s.`;
  return new ApiError(text, { status, code, retryAfterS });
}

async function send(path, { method = "GET", body, json } = {}) {
  const init = { method, headers: headers(), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;  // FormData: the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(apiUrl(path), init);
  } catch (error) {
    const why = error.name === "TimeoutError" ? "no answer in time" : error.message;
    throw new ApiError(`Could not reach the gateway (${why}).`);
  }
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch { /* not JSON: the status alone says it */ }
    throw errorFromBody(response.status, parsed, response.headers.get("Retry-After"));
  }
  return response;
}

export async function getJson(path) {
  return (await send(path)).json();
}

export async function postJson(path, json) {
  return (await send(path, { method: "POST", json })).json();
}

export async function postForm(path, form) {
  return (await send(path, { method: "POST", body: form })).json();
}

// Server-sent events over a POST (EventSource can only GET): read the body as it arrives and call
// onEvent({event, data}) for each event; `data` is the text of its data: lines.
export async function postEvents(path, { form, json }, onEvent) {
  const response = await send(path, { method: "POST", body: form, json });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent({ event, data: data.join("\n") });
    }
  }
}
