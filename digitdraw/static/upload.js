// The upload panel (js_on_load of digitdraw.components.UploadPanel; Gradio provides `element`,
// `props` and `server`). A photo is chosen, taken (phones open the camera), dropped, pasted, or an
// example is clicked ("digitdraw:example" events). Big photos are shrunk here, in the browser, to
// at most MAX_SIDE px (a 12 MB, 48-megapixel phone photo becomes a few hundred KB), so any photo
// is read, and the server's own limit stays a guard. The image goes to the server function
// read_upload as a data URL; its answer is sent to the Upload tab's results as a
// "digitdraw:upload-answer" event. shared.upload holds what is shown, for "How it was read".
const MAX_SIDE = 1600;  // px: the engine reads at 320 px; this keeps a digit in a corner of a photo sharp
const MAX_BYTES = 1500000;  // smaller images with no side over MAX_SIDE go as they are
const QUALITY = 0.9;
const MAX_SEND = 2 * 1024 * 1024;  // bytes: the server's limit on an image sent as a data URL (answers.MAX_IMAGE_BYTES)

const drop = element.querySelector(".drop");
const chooser = element.querySelector("input.choose");
const camera = element.querySelector("input.camera");
const photo = element.querySelector(".photo");
const image = photo.querySelector("img");
const name = photo.querySelector(".name");
const note = element.querySelector(".note");
const cameraButton = element.querySelector("button[data-action=camera]");
cameraButton.hidden = !(navigator.maxTouchPoints > 0 || window.matchMedia("(pointer: coarse)").matches);  // a phone, a tablet

const asDataUrl = (blob) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result);
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(blob);
});

// A large image drawn again at most MAX_SIDE px a side: JPEG stays JPEG; anything else becomes
// WebP, which keeps transparency (ink drawn only in alpha). The browser applies EXIF orientation.
async function shrink(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file;  // not an image the browser can open: the server says what it is
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size <= MAX_BYTES) {
    bitmap.close();
    return file;
  }
  const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.convertToBlob({ type: file.type === "image/jpeg" ? "image/jpeg" : "image/webp", quality: QUALITY });
}

async function read(file, label) {
  const id = (shared.upload.id += 1);
  note.textContent = "Reading…";
  let answer;
  try {
    const sent = await shrink(file);
    if (sent.size > MAX_SEND) {  // only a file the browser cannot open and shrink is this large
      note.textContent = "";
      const status = `Can't read that file — it is over ${MAX_SEND / 1024 / 1024} MB, and not an image the browser can shrink.`;
      window.dispatchEvent(new CustomEvent("digitdraw:upload-answer", { detail: { status, digits: [] } }));
      return;
    }
    const dataUrl = await asDataUrl(sent);
    if (id !== shared.upload.id) return;  // a newer image came meanwhile
    shared.upload.image = dataUrl;
    image.src = dataUrl;
    name.textContent = label;
    photo.hidden = false;
    answer = await server.read_upload({ id, image: dataUrl });
  } catch (error) {
    answer = { status: "The server did not answer. Try again.", digits: [] };
  }
  if (id !== shared.upload.id) return;
  note.textContent = "";
  window.dispatchEvent(new CustomEvent("digitdraw:upload-answer", { detail: answer }));
}

function remove() {
  shared.upload.id += 1;
  shared.upload.image = null;
  photo.hidden = true;
  image.removeAttribute("src");
  note.textContent = "";
  window.dispatchEvent(new CustomEvent("digitdraw:upload-cleared"));
}

const visible = () => element.offsetParent !== null;
const firstImage = (items) => [...items].find((item) => item.type.startsWith("image/"));

for (const input of [chooser, camera]) {
  input.addEventListener("change", () => {
    if (input.files.length) read(input.files[0], input.files[0].name);
    input.value = "";
  });
}
element.querySelector("button[data-action=choose]").addEventListener("click", () => chooser.click());
cameraButton.addEventListener("click", () => camera.click());
element.querySelector("button[data-action=remove]").addEventListener("click", remove);

// Paste: Ctrl+V anywhere on the Upload tab needs no permission; the button asks for it, and a
// browser that refuses is told how to paste instead.
document.addEventListener("paste", (event) => {
  const file = visible() && firstImage([...event.clipboardData.items].map((item) => item.getAsFile()).filter(Boolean));
  if (file) {
    event.preventDefault();
    read(file, "a pasted image");
  }
});
element.querySelector("button[data-action=paste]").addEventListener("click", async () => {
  try {
    const items = await navigator.clipboard.read();
    for (const item of items) {
      const type = item.types.find((t) => t.startsWith("image/"));
      if (type) return read(await item.getType(type), "a pasted image");
    }
    note.textContent = "There is no image on the clipboard. Copy one, then paste it here.";
  } catch {
    note.textContent = "The browser did not let the page read the clipboard. Press Ctrl+V (or Cmd+V) to paste instead.";
  }
});

drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = firstImage(event.dataTransfer.files) || event.dataTransfer.files[0];
  if (file) read(file, file.name);
});

window.addEventListener("digitdraw:example", async (event) => {
  const { url, label } = event.detail;
  try {
    read(await (await fetch(url)).blob(), label);
  } catch {
    note.textContent = "That example could not be loaded. Try again.";
  }
});
