// Small DOM helpers shared by the panels: a panel's status / error lines, tables, formatting.

export const $ = (id) => document.getElementById(id);

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// One request at a time per panel: its submit buttons are disabled and its status says what runs;
// `finally` always ends the busy state, so an error can never leave a spinner running.
export async function run(prefix, working, task, buttons = []) {
  const status = $(`${prefix}-status`);
  const error = $(`${prefix}-error`);
  error.hidden = true;
  error.textContent = "";
  status.textContent = working;
  status.classList.add("busy");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    status.textContent = (await task()) || "";
  } catch (failure) {
    status.textContent = "";
    error.textContent = failure.message || String(failure);
    error.hidden = false;
  } finally {
    status.classList.remove("busy");
    buttons.forEach((button) => { button.disabled = false; });
  }
}

export function seconds(value) {
  if (value == null) return "-";
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
}

export function fixed(value, digits = 3) {
  return value == null ? "-" : Number(value).toFixed(digits);
}

export function fillTable(table, head, rows) {
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ...head.map((cell) => el("th", { scope: "col", text: cell })))),
    el("tbody", {}, ...rows.map((row) => el("tr", {}, ...row.map((cell) =>
      cell instanceof Node ? el("td", {}, cell) : el("td", { text: String(cell) }))))));
}

export function fillPairs(table, pairs) {
  table.replaceChildren(el("tbody", {}, ...pairs.map(([name, value]) =>
    el("tr", {}, el("th", { scope: "row", text: name }), el("td", { text: String(value) })))));
}

export function pngDataUrl(base64, format = "png") {
  return `data:image/${format === "svg" ? "svg+xml" : "png"};base64,${base64}`;
}

export function isPdf(file) {
  return file.type === "application/pdf" || /\.pdf$/i.test(file.name);
}

// Resolves once the image has decoded (or says why it could not).
export function loaded(image, src) {
  return new Promise((resolve, reject) => {
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("the browser could not display this image"));
    image.src = src;
  });
}
