// PDF pages drawn in the browser with the vendored PDF.js (vendor/pdfjs, Apache-2.0), loaded only
// when a PDF is chosen. Used for the page a locate request sends and for page thumbnails.

let library = null;

async function pdfjs() {
  if (!library) {
    library = await import("../vendor/pdfjs/pdf.min.mjs");
    library.GlobalWorkerOptions.workerSrc = new URL("../vendor/pdfjs/pdf.worker.min.mjs", import.meta.url).href;
  }
  return library;
}

const documents = new WeakMap();

async function open(file) {
  if (!documents.has(file)) {
    const lib = await pdfjs();
    const data = new Uint8Array(await file.arrayBuffer());
    // No eval (the page's CSP forbids it), nothing fetched from anywhere but this origin.
    documents.set(file, lib.getDocument({ data, isEvalSupported: false, useSystemFonts: true }).promise);
  }
  try {
    return await documents.get(file);
  } catch (error) {
    documents.delete(file);
    throw new Error(`The browser could not read this PDF (${error.message}).`);
  }
}

export async function pageCount(file) {
  return (await open(file)).numPages;
}

// The page (1-based) as a PNG blob whose longest side is about `longestSide` pixels.
export async function pagePng(file, number, longestSide = 1600) {
  const pdf = await open(file);
  if (!(number >= 1 && number <= pdf.numPages)) {
    throw new Error(`This PDF has ${pdf.numPages} page(s); page ${number} does not exist.`);
  }
  const page = await pdf.getPage(number);
  const base = page.getViewport({ scale: 1 });
  const viewport = page.getViewport({ scale: longestSide / Math.max(base.width, base.height) });
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(viewport.width);
  canvas.height = Math.round(viewport.height);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";  // PDF pages are transparent where nothing is drawn
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({ canvasContext: context, canvas, viewport }).promise;
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
