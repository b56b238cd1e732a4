// The examples (js_on_load of digitdraw.components.ExamplesPanel): a click reads one on the
// Upload tab, through the upload panel ("digitdraw:example").
element.querySelectorAll("button[data-url]").forEach((button) => button.addEventListener("click", () =>
  window.dispatchEvent(new CustomEvent("digitdraw:example", { detail: { url: button.dataset.url, label: button.dataset.label } }))));
