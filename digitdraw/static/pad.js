// The drawing pad (js_on_load of digitdraw.components.DrawingPad; Gradio provides `element` and
// `server`). Pointer Events make mouse, touch and pen one code path. Strokes are kept as points in
// the pad's CSS pixels. After every stroke and, throttled, while one is drawn, the drawing goes to
// the server function read_drawing: one small POST, answered directly, never through the queue's
// round trips. While a stroke is drawn, one reading is in flight at a time (a drawing made
// meanwhile waits, and only the newest); the one that ends a stroke goes at once. Each drawing
// has an id (window.digitdraw.drawing is the current one) and the results panel, which receives
// answers as "digitdraw:answer" events, ignores those for older ids.
const THROTTLE_MS = 150;  // while a stroke is drawn, at most one prediction this often
const BRUSH_SHARE = 0.04;  // brush width, share of the pad's short side: 16 px on a 400 px pad

const pad = element.querySelector(".pad");
const canvas = pad.querySelector("canvas");
const undoButton = element.querySelector("button[data-action=undo]");
const clearButton = element.querySelector("button[data-action=clear]");
const context = canvas.getContext("2d");
let strokes = [];  // one array of [x, y] points per stroke
let active = null;  // { pointer, points } while a stroke is drawn
let size = { width: 0, height: 0 };
let lastSent = 0;

const brush = () => Math.max(2, BRUSH_SHARE * Math.min(size.width, size.height));
const round1 = (v) => Math.round(v * 10) / 10;

function paint(points) {
  context.beginPath();
  context.moveTo(points[0][0], points[0][1]);
  for (const [x, y] of points.length > 1 ? points.slice(1) : [[points[0][0] + 0.01, points[0][1]]]) {
    context.lineTo(x, y);  // a single point still draws a round dot
  }
  context.stroke();
}

function redraw() {
  context.clearRect(0, 0, size.width, size.height);
  context.lineCap = "round";
  context.lineJoin = "round";
  context.lineWidth = brush();
  context.strokeStyle = "#111";
  strokes.forEach(paint);
  pad.classList.toggle("empty", strokes.length === 0);
  // aria-disabled, not disabled: a focused button that disables itself would drop the focus to <body>.
  undoButton.setAttribute("aria-disabled", String(strokes.length === 0));
}

// The backing store follows the CSS size times devicePixelRatio, so strokes stay crisp; on a
// resize (a phone turned), the strokes are scaled with the pad.
function fit() {
  const rect = canvas.getBoundingClientRect();
  if (!rect.width || !rect.height) return;  // the Draw tab is hidden
  if (size.width) {
    const sx = rect.width / size.width, sy = rect.height / size.height;
    strokes = strokes.map((points) => points.map(([x, y]) => [x * sx, y * sy]));
  }
  size = { width: rect.width, height: rect.height };
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(rect.width * ratio);
  canvas.height = Math.round(rect.height * ratio);
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  redraw();
}
new ResizeObserver(fit).observe(canvas);

let asking = 0;  // readings in flight
let waiting = null;  // the newest drawing made while one was

function current(live = false) {
  return {
    id: shared.drawing,
    live,  // sent while a stroke is drawn: read without cutting digits that touch
    width: Math.round(size.width),
    height: Math.round(size.height),
    brush: round1(brush()),
    strokes: strokes.map((points) => points.map(([x, y]) => [round1(x), round1(y)])),
  };
}
shared.current = current;  // the explanation panels read the drawing on show

async function ask(drawing) {
  asking += 1;
  let answer;
  try {
    answer = await server.read_drawing(drawing);
  } catch (error) {
    answer = { drawing: drawing.id, status: "The server did not answer. Draw again to retry.", digits: [] };
  }
  window.dispatchEvent(new CustomEvent("digitdraw:answer", { detail: answer }));
  asking -= 1;
  if (waiting && !asking) {
    const next = waiting;
    waiting = null;
    ask(next);
  }
}

function send(now = false) {
  shared.drawing += 1;
  lastSent = performance.now();
  waiting = null;
  if (!strokes.length) {  // nothing to read: the results empty at once, no request
    window.dispatchEvent(new CustomEvent("digitdraw:cleared"));
    return;
  }
  const live = active !== null;
  if (asking && !now) waiting = current(live);
  else ask(current(live));
}

function undo() {
  if (!strokes.length || active) return;
  strokes.pop();
  redraw();
  send(true);
}

function clear() {
  active = null;
  strokes = [];
  redraw();
  send();
}

const at = (event) => {
  const rect = canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
};

canvas.addEventListener("pointerdown", (event) => {
  if (active || (event.pointerType === "mouse" && event.button !== 0)) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);  // the stroke goes on outside the pad
  active = { pointer: event.pointerId, points: [at(event)] };
  strokes.push(active.points);
  redraw();
});

canvas.addEventListener("pointermove", (event) => {
  if (!active || event.pointerId !== active.pointer) return;
  const from = active.points.length - 1;
  for (const sample of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) {
    active.points.push(at(sample));
  }
  paint(active.points.slice(from));
  if (performance.now() - lastSent >= THROTTLE_MS) send();
});

function endStroke(event) {
  if (!active || event.pointerId !== active.pointer) return;
  active = null;
  send(true);
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

undoButton.addEventListener("click", () => undoButton.getAttribute("aria-disabled") !== "true" && undo());
clearButton.addEventListener("click", clear);
document.addEventListener("keydown", (event) => {
  if (!canvas.offsetParent || event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  if (event.key === "Escape") {
    clear();
  } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});
fit();
