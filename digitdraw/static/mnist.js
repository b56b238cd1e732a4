// "Browse MNIST" (js_on_load of digitdraw.components.MnistPanel; Gradio provides `element` and
// `server`): one test digit at a time, asked of the server function `browse`.
const index = element.querySelector("input.index");
const digitChoice = element.querySelector("select.digit");
const note = element.querySelector(".mnist-status");
const sample = element.querySelector(".sample");
const image = element.querySelector(".digit-image");
const said = element.querySelector(".said");
const bars = element.querySelector(".bars");
const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const percent = (p) => `${Math.round(p * 100)}%`;
let shown = null;

function render(answer) {
  note.textContent = answer.status || "";
  if (answer.index === undefined) return;
  shown = answer.index;
  index.value = answer.index;
  sample.hidden = false;
  image.src = answer.image;
  image.alt = `MNIST test digit ${answer.index}, labelled ${answer.label}`;
  const right = answer.number === answer.label;
  const theirs = answer.yours ? CLASSES.reduce((a, b) => (answer.yours[a] >= answer.yours[b] ? a : b)) : null;
  said.innerHTML = `Test digit <b>${answer.index}</b>, labelled <b>${answer.label}</b>. The shipped model reads ` +
    `<b>${answer.number}</b> (${percent(answer.confidence)})${right ? "" : ": wrong"}` +
    (theirs ? `; yours reads <b>${theirs}</b> (${percent(answer.yours[theirs])})` : "") + ".";
  bars.innerHTML = CLASSES.map((c) => `<li class="${c === answer.number ? "top" : ""}">` +
    `<span class="sr-only">${c}: ${percent(answer.probabilities[c])}${answer.yours ? `, yours ${percent(answer.yours[c])}` : ""}</span>` +
    `<span aria-hidden="true">${c}</span><span class="bar" aria-hidden="true"><span style="--p: ${(answer.probabilities[c] * 100).toFixed(1)}%"></span>` +
    (answer.yours ? `<span class="yours" style="--p: ${(answer.yours[c] * 100).toFixed(1)}%"></span>` : "") +
    `</span><span aria-hidden="true">${percent(answer.probabilities[c])}</span></li>`).join("");
}

let asked = 0;  // clicks so far: only the latest one's answer is shown, whatever order they arrive in

async function ask(request) {
  const mine = ++asked;
  note.textContent = "Reading…";
  const answer = await server.browse(request).catch(() => null);
  if (mine !== asked) return;
  render(answer ?? { status: "The server did not answer. Try again." });
}

const actions = {
  show: () => ask({ index: Number(index.value) || 0 }),
  previous: () => ask({ index: Math.max(0, (shown ?? 1) - 1) }),
  next: () => ask({ index: (shown ?? -1) + 1 }),
  random: () => ask({ random: true }),
  class: () => ask({ digit: digitChoice.value, after: shown ?? -1 }),
  misread: () => ask({ misread: true, after: shown ?? -1 }),
};
element.querySelectorAll("button[data-action]").forEach((button) =>
  button.addEventListener("click", () => actions[button.dataset.action]()));
index.addEventListener("keydown", (event) => event.key === "Enter" && actions.show());
