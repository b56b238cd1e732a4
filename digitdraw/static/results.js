// A results panel (js_on_load of digitdraw.components.ResultsPanel; Gradio provides `element` and
// `props`). Each tab has its own: props.source is "drawing" (the Draw tab) or "upload". An answer
// is what the server read: {drawing, status, number, digits: [{digit, confidence, unsure,
// probabilities, preview}]}, one digit or several (a number). Answers come as window events:
// "digitdraw:answer" and "digitdraw:cleared" from the pad, "digitdraw:upload-answer" and
// "digitdraw:upload-cleared" from the upload panel. An answer for a drawing older than the pad's
// current one (shared.drawing) is ignored: after a Clear, or while newer strokes are on their
// way, it would show a digit that is no longer on the pad.
const panel = element.querySelector(".results");
const status = panel.querySelector(".status");
const probs = panel.querySelector(".probs");
const preview = panel.querySelector(".preview");
const cards = panel.querySelector(".digits");
const prompt = panel.dataset.prompt;
const source = panel.dataset.source;
const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const percent = (p) => `${Math.round(p * 100)}%`;

// One row (a column on a phone) per class: its label, a bar and its share; read out as "7: 93%".
// With `yours` (the Learn tab's model for this session), its bar and share beside the shipped one's.
function bars(probabilities, top, yours) {
  return CLASSES.map((label) => {
    const p = probabilities[label];
    const mine = yours ? `<span class="mine" style="--p: ${(yours[label] * 100).toFixed(1)}%"></span>` : "";
    return `<li class="${label === top ? "top" : ""}"><span class="sr-only">${label}: ${percent(p)}` +
      `${yours ? `, your model ${percent(yours[label])}` : ""}</span>` +
      `<span class="class" aria-hidden="true">${label}</span>` +
      `<span class="bar" aria-hidden="true"><span style="--p: ${(p * 100).toFixed(1)}%"></span>${mine}</span>` +
      `<span class="share" aria-hidden="true">${percent(p)}${yours ? `<small>${percent(yours[label])}</small>` : ""}</span></li>`;
  }).join("");
}

const best = (probabilities) => CLASSES.reduce((a, b) => (probabilities[a] >= probabilities[b] ? a : b));

// A number: one small panel per digit, with its 28x28, its bars and, in words, the likeliest two.
function card(d, i) {
  const ranked = CLASSES.slice().sort((a, b) => d.probabilities[b] - d.probabilities[a]);
  const second = ranked[1];
  // A runner-up that rounds to 0% is left out, on the panel and read out: "100%, then 0 0%" is noise.
  const shown = d.probabilities[second] >= 0.005;
  const share = percent(d.probabilities[second]);
  const label = `Digit ${i + 1}: ${d.digit}, ${percent(d.confidence)}${d.unsure ? ", unsure" : ""}` +
    (shown ? `; then ${second}, ${share}` : "");
  const runnerUp = shown ? `, or ${second}: ${share}` : "";
  const columns = CLASSES.map((c) => `<span class="${c === d.digit ? "top" : ""}" ` +
    `style="height:${Math.round(d.probabilities[c] * 100)}%"></span>`).join("");
  return `<li class="card${d.unsure ? " unsure" : ""}" aria-label="${label}">` +
    `<img src="${d.preview}" alt="" width="56" height="56">` +
    `<b aria-hidden="true">${d.digit}${d.unsure ? "?" : ""}</b>` +
    `<small aria-hidden="true">${percent(d.confidence)}${runnerUp}</small>` +
    `<div class="mini" aria-hidden="true">${columns}</div></li>`;
}

function render(answer) {
  const digits = answer?.digits || [];
  const one = digits.length === 1;
  const yours = answer?.yours;
  status.textContent = (answer?.status || prompt) +
    (yours ? ` Your model reads ${yours.map(best).join("")}.` : "");
  panel.classList.toggle("compared", Boolean(yours));
  panel.classList.toggle("unsure", digits.some((d) => d.unsure));
  panel.classList.toggle("empty", digits.length === 0);
  panel.classList.toggle("number", digits.length > 1);
  probs.dataset.top = digits.map((d) => d.digit).join("");
  probs.innerHTML = one ? bars(digits[0].probabilities, digits[0].digit, yours?.[0]) : "";
  preview.innerHTML = one
    ? `<img src="${digits[0].preview}" alt="The 28 by 28 image the model read" width="140" height="140">` : "";
  cards.innerHTML = digits.length > 1 ? digits.map(card).join("") : "";
  // A long number scrolls inside its box: the box then takes the focus, so a keyboard can scroll it.
  if (digits.length > 1) cards.setAttribute("tabindex", "0");
  else cards.removeAttribute("tabindex");
}

function inView() {
  const box = panel.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}

if (source === "drawing") {
  const stale = (answer) => answer?.drawing != null && answer.drawing < shared.drawing;
  window.addEventListener("digitdraw:answer", (event) => {
    if (stale(event.detail)) return;
    render(event.detail);
    shared.shown = event.detail.drawing;
    window.dispatchEvent(new CustomEvent("digitdraw:shown", { detail: { source } }));
  });
  window.addEventListener("digitdraw:cleared", () => {
    render(null);
    shared.shown = shared.drawing;
    window.dispatchEvent(new CustomEvent("digitdraw:shown", { detail: { source } }));
  });
} else {
  // After an upload the answer comes into view, wherever the photo and the page put it (a phone).
  window.addEventListener("digitdraw:upload-answer", (event) => {
    render(event.detail);
    shared.upload.shown = shared.upload.id;
    if (!inView()) panel.scrollIntoView({ block: "nearest" });
    window.dispatchEvent(new CustomEvent("digitdraw:shown", { detail: { source } }));
  });
  window.addEventListener("digitdraw:upload-cleared", () => {
    render(null);
    shared.upload.shown = shared.upload.id;
    window.dispatchEvent(new CustomEvent("digitdraw:shown", { detail: { source } }));
  });
}
render(null);
