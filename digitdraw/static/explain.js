// "How it was read" (js_on_load of digitdraw.components.ExplainPanel; Gradio provides `element`,
// `props` and `server`). One per tab: props.source is "drawing" or "upload". Nothing is computed
// while it is closed: when open, it asks its server function `explain_reading` for what its tab's
// results show (the pad's current drawing, or the uploaded image) and again when that changes.
const toggle = element.querySelector(".disclosure");
const body = element.querySelector(".body");
const note = element.querySelector(".explain-status");
const steps = element.querySelector(".steps");
const saliency = element.querySelector(".saliency");
const source = props.source;
const empty = note.textContent;
let explained = null;  // the key of what is on show

function request() {
  if (source === "upload") {
    const { id, image } = shared.upload;
    return image ? { key: `upload ${id}`, body: { image } } : null;
  }
  const drawing = shared.current();
  return drawing?.strokes.length ? { key: `drawing ${drawing.id}`, body: { drawing } } : null;
}

const picture = (src, alt, kind) => `<span class="box ${kind}"><img src="${src}" alt="${alt}"></span>`;

function render(answer) {
  note.textContent = answer.status;
  // A heading over nothing (no digit read, or the panel waiting for one) reads as a broken page.
  steps.parentElement.hidden = !answer.steps.length;
  saliency.parentElement.hidden = !answer.saliency.length;
  steps.innerHTML = answer.steps.map((s) =>
    `<li>${picture(s.image, "", s.name)}<span>${s.caption}</span></li>`).join("");
  saliency.innerHTML = answer.saliency.map((s) =>
    `<figure>${picture(s.top, `Saliency of ${s.digit}`, "heat")}<figcaption>why ${s.article} ${s.digit}</figcaption></figure>` +
    `<figure>${picture(s.versus, `Saliency of ${s.digit} against ${s.runner_up}`, "heat")}` +
    `<figcaption>why ${s.article} ${s.digit} and not ${s.runner_up_article} ${s.runner_up}</figcaption></figure>`).join("");
}

async function refresh() {
  if (body.hidden) return;
  const wanted = request();
  if (!wanted) {
    explained = null;
    render({ status: empty, steps: [], saliency: [] });
    return;
  }
  if (wanted.key === explained) return;
  explained = wanted.key;
  note.textContent = "Reading…";
  const answer = await server.explain_reading(wanted.body).catch(() => null);
  // Something newer is on show (another drawing, or the pad cleared): this answer is stale.
  if (wanted.key !== explained) return;
  if (!answer) explained = null;  // closing and opening the panel asks again
  render(answer ?? { status: "The server did not answer. Close and open this panel to retry.", steps: [], saliency: [] });
}

toggle.addEventListener("click", () => {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  body.hidden = !open;
  refresh();
});
window.addEventListener("digitdraw:shown", (event) => event.detail?.source === source && refresh());
