// Locate text: POST /v1/text/locate (multipart). Draws the chosen token's boxes and heatmap, and the
// whole query's matches, over the page that was sent. Boxes are placed in percent of the API's image
// size, so they follow the page however the browser scales it for display (the original pixels are
// what is sent).
import { postForm } from "./api.js";
import { pagePng, pageCount } from "./pdf.js";
import { $, el, fillPairs, fillTable, fixed, isPdf, loaded, run, seconds } from "./view.js";

let answer = null;   // the last locate response
let sent = null;     // the blob it was computed on (an image file, or a PDF page drawn as PNG)
let pageUrl = null;

async function chosenFile() {
  const file = $("locate-file").files[0];
  if (!file) throw new Error("Choose an image or a PDF first.");
  if (!isPdf(file)) return file;
  const page = Number($("locate-page").value);
  const png = await pagePng(file, page);
  return new File([png], `${file.name.replace(/\.pdf$/i, "")}-page${page}.png`, { type: "image/png" });
}

function drawToken(index) {
  const token = answer.tokens[index];
  const { width, height } = answer.image;
  const heatmap = $("locate-heatmap");
  if (token && token.heatmap && token.heatmap.png_base64) {
    heatmap.src = `data:image/png;base64,${token.heatmap.png_base64}`;
    heatmap.hidden = false;
  } else {
    heatmap.removeAttribute("src");
    heatmap.hidden = true;
  }
  const percent = (value, of) => `${(100 * value / of).toFixed(4)}%`;
  const place = (node, box) => {
    // Through the CSSOM: the page's CSP allows no inline style attributes.
    Object.assign(node.style, { left: percent(box.x0, width), top: percent(box.y0, height),
                                width: percent(box.x1 - box.x0, width), height: percent(box.y1 - box.y0, height) });
    return node;
  };
  const boxes = (token ? token.boxes : []).map((box, rank) => place(el("div", {
    class: "box", title: `${token.text}: ${fixed(box.score)}`,
    dataset: { token: String(token.index), rank: String(rank), x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1,
               score: box.score } }), box));
  // The whole query's matches stay drawn, in their own colour, whichever token is chosen.
  const matches = answer.matches.map((match, rank) => place(el("div", {
    class: "match", title: `${answer.query}: ${fixed(match.score)}`,
    dataset: { rank: String(rank), score: match.score } }), match));
  $("locate-boxes").replaceChildren(...boxes, ...matches);
  $("locate-boxes").dataset.imageWidth = width;
  $("locate-boxes").dataset.imageHeight = height;
}

async function show(response) {
  answer = response;
  if (pageUrl) URL.revokeObjectURL(pageUrl);
  pageUrl = URL.createObjectURL(sent);
  $("locate-result").hidden = false;
  await loaded($("locate-page-image"), pageUrl);
  const select = $("locate-token");
  select.replaceChildren(...response.tokens.map((token) => el("option", {
    value: String(token.index), text: `${token.text} (${token.boxes.length} box${token.boxes.length === 1 ? "" : "es"})`,
  })));
  fillTable($("locate-tokens"), ["token", "max sim.", "boxes"],
            response.tokens.map((token) => [token.text, fixed(token.max_similarity), token.boxes.length]));
  const t = response.timings;
  fillPairs($("locate-timings"), [["decode", seconds(t.decode_s)], ["model (Triton)", seconds(t.upstream_s)],
                                  ["post-processing", seconds(t.postprocess_s)], ["total", seconds(t.total_s)]]);
  $("locate-model").textContent = `${response.model.name} (revision ${response.model.id}), ` +
    `${response.grid.num_tiles} tile(s), image ${response.image.width} x ${response.image.height}`;
  drawToken(0);
  const boxes = response.tokens.reduce((sum, token) => sum + token.boxes.length, 0);
  return `${response.tokens.length} token(s), ${boxes} box(es) above ${response.threshold}, ` +
    `${response.matches.length} match(es) of the whole query.`;
}

export function installLocate() {
  $("locate-file").addEventListener("change", () => {
    const file = $("locate-file").files[0];
    const pdf = Boolean(file && isPdf(file));
    $("locate-page-field").hidden = !pdf;
    if (pdf) {
      run("locate", "Reading the PDF...", async () => {
        const pages = await pageCount(file);
        $("locate-page").max = String(pages);
        $("locate-page").value = "1";
        return `The PDF has ${pages} page(s); choose the one to search.`;
      });
    }
  });
  $("locate-opacity").addEventListener("input", (event) => {
    $("locate-heatmap").style.opacity = String(event.target.value / 100);
  });
  $("locate-heatmap").style.opacity = String($("locate-opacity").value / 100);
  $("locate-token").addEventListener("change", (event) => drawToken(Number(event.target.value)));
  $("locate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("locate", "Locating...", async () => {
      const image = await chosenFile();
      const form = new FormData();
      form.append("image", image);
      form.append("query", $("locate-query").value);
      form.append("heatmap_format", "png");
      if ($("locate-threshold").value !== "") form.append("threshold", $("locate-threshold").value);
      const response = await postForm("v1/text/locate", form);
      sent = image;
      return show(response);
    }, [$("locate-submit")]);
  });
}
