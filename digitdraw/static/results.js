// The results panel (js_on_load of digitdraw.components.ResultsPanel; Gradio provides `element`,
// `props` and `watch`). An answer is what the server read: {drawing, status, number, digits:
// [{digit, confidence, unsure, probabilities, preview}]}. Answers come from the pad (as
// "digitdraw:answer" events) and from Gradio events (uploads: the component's value). One for a
// drawing older than the pad's current one (window.digitdraw.drawing) is ignored: after a Clear,
// or while newer strokes are on their way, it would show a digit that is no longer on the pad.
const status = element.querySelector("#status");
const probs = element.querySelector("#probs");
const preview = element.querySelector("#preview");
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

function render(answer) {
  const digits = answer?.digits || [];
  status.textContent = answer?.status || "";
  element.classList.toggle("unsure", digits.some((d) => d.unsure));
  element.classList.toggle("empty", digits.length === 0);
  probs.dataset.top = digits.length === 1 ? digits[0].digit : "";
  probs.innerHTML = digits.length === 1 ? `<ol>${bars(digits[0].probabilities, digits[0].digit)}</ol>` : "";
  preview.innerHTML = digits.length === 1
    ? `<img src="${digits[0].preview}" alt="The 28 by 28 image the model read" width="140" height="140">` : "";
}

const stale = (answer) => answer?.drawing != null && answer.drawing < (window.digitdraw?.drawing || 0);
// window.digitdraw.shown: the drawing whose answer is on screen (tests wait for it to be current).
const shared = (window.digitdraw = window.digitdraw || { drawing: 0 });
const show = (answer) => {
  if (stale(answer)) return;
  render(answer);
  if (answer?.drawing != null) shared.shown = answer.drawing;
};
watch("value", () => show(props.value));
window.addEventListener("digitdraw:answer", (event) => show(event.detail));
window.addEventListener("digitdraw:cleared", () => show({ drawing: shared.drawing, status: prompt, digits: [] }));
render(props.value);
