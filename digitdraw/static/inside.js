// "Inside the model" (js_on_load of digitdraw.components.InsidePanel; Gradio provides `element`
// and `server`): the shipped model's layers for the Draw tab's drawing or the Upload tab's image,
// asked of its server function `inside` when a button is pressed.
const note = element.querySelector(".inside-status");
const maps = element.querySelector(".maps");
const percent = (p) => `${(p * 100).toFixed(1)}%`;

function figure(layer, kind) {
  const [count, h, w] = layer.shape;
  return `<figure class="${kind}"><img src="${layer.image}" alt="${layer.name}: ${count} maps of ${h}x${w}">` +
    `<figcaption><b>${layer.name}</b>: ${layer.sentence}</figcaption></figure>`;
}

function render(answer) {
  note.textContent = answer.status || "";
  if (!answer.layers?.length) {
    maps.innerHTML = "";
    return;
  }
  const rows = answer.logits.map((l) => `<tr><td>${l.class}</td><td>${l.logit.toFixed(2)}</td>` +
    `<td>${l.scaled.toFixed(2)}</td><td>${percent(l.probability)}</td></tr>`).join("");
  maps.innerHTML = `<figure class="input"><img src="${answer.digit}" alt="The 28 by 28 digit the model read">` +
    `<figcaption><b>the input</b>: the 28x28 the preprocessing made.</figcaption></figure>` +
    answer.layers.map((layer) => figure(layer, "layer")).join("") + figure(answer.pooled, "pooled") +
    `<h3>The scores</h3><p>The last layer's score for each class (its logit), the score divided by the ` +
    `temperature (${answer.temperature.toFixed(2)}, fitted so that the probabilities are calibrated), and the ` +
    `probability the softmax makes of it.</p><div class="table"><table><thead><tr><th>class</th><th>logit</th>` +
    `<th>÷ temperature</th><th>probability</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

let asked = 0;  // clicks so far: only the latest one's answer is shown, whatever order they arrive in

element.querySelectorAll("button[data-source]").forEach((button) => button.addEventListener("click", async () => {
  const upload = button.dataset.source === "upload";
  const drawing = shared.current();
  const body = upload ? (shared.upload.image && { image: shared.upload.image }) : (drawing?.strokes.length && { drawing });
  if (!body) {
    asked += 1;  // an answer still on its way is for something no longer asked
    render({ status: upload ? "Upload an image on the Upload tab first." : "Draw a digit on the Draw tab first.", layers: [] });
    return;
  }
  const mine = ++asked;
  note.textContent = "Looking inside…";
  const answer = await server.inside(body).catch(() => null);
  if (mine !== asked) return;
  render(answer ?? { status: "The server did not answer. Try again.", layers: [] });
}));
