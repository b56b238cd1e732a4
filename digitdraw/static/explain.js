// "How it was read" (js_on_load of digitdraw.components.ExplainPanel; Gradio provides `element`,
// `props` and `server`). Nothing is computed while the panel is closed: it asks its server function
// `explain_reading` only when it is visible, for what the results panel shows (window.digitdraw.source):
// the pad's current drawing, or the uploaded image, which it fetches from the page and sends.
const note = element.querySelector(".explain-status");
const steps = element.querySelector("#steps");
const saliency = element.querySelector("#saliency");
let explained = null;  // the key of what is on show

const visible = () => element.offsetParent !== null && element.getBoundingClientRect().height > 0;

function asDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsDataURL(blob);
  });
}

async function request() {
  if (shared.source === "upload") {
    const image = document.querySelector(props.uploaded_image);  // Gradio's DOM: see gradio_compat
    if (!image?.src) return null;
    return { key: image.src, body: async () => ({ image: await asDataUrl(await (await fetch(image.src)).blob()) }) };
  }
  const drawing = shared.current?.();
  if (!drawing?.strokes.length) return null;
  return { key: `drawing ${drawing.id}`, body: async () => ({ drawing }) };
}

function render(answer) {
  note.textContent = answer.status;
  steps.innerHTML = answer.steps.map((s) =>
    `<li><img src="${s.image}" alt=""><span>${s.caption}</span></li>`).join("");
  saliency.innerHTML = answer.saliency.map((s) =>
    `<figure><img src="${s.top}" alt="Saliency of ${s.digit}"><figcaption>why a ${s.digit}</figcaption></figure>` +
    `<figure><img src="${s.versus}" alt="Saliency of ${s.digit} against ${s.runner_up}">` +
    `<figcaption>why a ${s.digit} and not a ${s.runner_up}</figcaption></figure>`).join("");
}

async function refresh() {
  if (!visible()) return;
  const wanted = await request();
  if (!wanted) {
    explained = null;
    render({ status: "Draw or upload a digit to see how it is read.", steps: [], saliency: [] });
    return;
  }
  if (wanted.key === explained) return;
  explained = wanted.key;
  note.textContent = "Reading…";
  let answer;
  try {
    answer = await server.explain_reading(await wanted.body());
  } catch (error) {
    answer = { status: "The server did not answer. Close and open this panel to retry.", steps: [], saliency: [] };
    explained = null;
  }
  if (wanted.key === explained || explained === null) render(answer);
}

window.addEventListener("digitdraw:shown", refresh);
new ResizeObserver(refresh).observe(element);  // the accordion opened (or the page was resized)
