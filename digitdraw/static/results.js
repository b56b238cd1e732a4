// The results panel (js_on_load of digitdraw.components.ResultsPanel; Gradio provides `element`,
// `props` and `watch`). An answer is what the server read: {drawing, status, number, digits:
// [{digit, confidence, unsure, probabilities, preview}]}, one digit or several (a number). Answers come from the pad (as
// "digitdraw:answer" events) and from Gradio events (uploads: the component's value). One for a
// drawing older than the pad's current one (window.digitdraw.drawing) is ignored: after a Clear,
// or while newer strokes are on their way, it would show a digit that is no longer on the pad.
const status = element.querySelector("#status");
const probs = element.querySelector("#probs");
const preview = element.querySelector("#preview");
const cards = element.querySelector("#digits");
const prompt = element.querySelector(".results").dataset.prompt;
const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const percent = (p) => `${Math.round(p * 100)}%`;

function bars(probabilities, top) {
  return CLASSES.map((label) => {
    const p = probabilities[label];
    return `<li class="${label === top ? "top" : ""}"><span class="class">${label}</span>` +
      `<meter min="0" max="1" value="${p}" aria-label="${label}: ${percent(p)}"></meter>` +
      `<span class="share">${percent(p)}</span></li>`;
  }).join("");
}

// A number: one small panel per digit, with its 28x28, its bars and, if unsure, a mark.
function card(d, i) {
  const label = `Digit ${i + 1}: ${d.digit}, ${percent(d.confidence)}${d.unsure ? ", unsure" : ""}`;
  const columns = CLASSES.map((c) => `<span class="${c === d.digit ? "top" : ""}" style="height:${Math.round(d.probabilities[c] * 100)}%" title="${c}: ${percent(d.probabilities[c])}"></span>`).join("");
  return `<li class="card${d.unsure ? " unsure" : ""}" aria-label="${label}">` +
    `<img src="${d.preview}" alt="" width="56" height="56">` +
    `<b>${d.digit}${d.unsure ? "?" : ""}</b><small>${percent(d.confidence)}</small>` +
    `<div class="mini" aria-hidden="true">${columns}</div></li>`;
}

function render(answer) {
  const digits = answer?.digits || [];
  const one = digits.length === 1;
  status.textContent = answer?.status || "";
  element.classList.toggle("unsure", digits.some((d) => d.unsure));
  element.classList.toggle("empty", digits.length === 0);
  probs.dataset.top = digits.map((d) => d.digit).join("");
  probs.innerHTML = one ? `<ol>${bars(digits[0].probabilities, digits[0].digit)}</ol>` : "";
  preview.innerHTML = one
    ? `<img src="${digits[0].preview}" alt="The 28 by 28 image the model read" width="140" height="140">` : "";
  cards.innerHTML = digits.length > 1 ? digits.map(card).join("") : "";
}

const stale = (answer) => answer?.drawing != null && answer.drawing < shared.drawing;
// The explanation panel is told by a "digitdraw:shown" event that shared.shown and shared.source changed.
const show = (answer, source) => {
  if (stale(answer)) return;
  render(answer);
  if (answer?.drawing != null) shared.shown = answer.drawing;
  shared.source = source;
  window.dispatchEvent(new CustomEvent("digitdraw:shown"));
};
watch("value", () => show(props.value, "upload"));
window.addEventListener("digitdraw:answer", (event) => show(event.detail, "drawing"));
window.addEventListener("digitdraw:cleared", () => show({ drawing: shared.drawing, status: prompt, digits: [] }, "drawing"));
render(props.value);
