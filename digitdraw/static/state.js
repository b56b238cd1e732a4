// window.digitdraw: the one object the page's components share (prepended to each component's
// js_on_load by digitdraw/components.py; whichever loads first makes it).
//   drawing  the pad's current drawing id: every change to the pad's strokes makes a new one
//   shown    the drawing id whose answer is on screen (tests wait for shown === drawing)
//   source   what the answer on screen was read from: "drawing" or "upload"
//   current  () => the pad's drawing as the pad sends it ({id, width, height, brush, strokes})
window.digitdraw ??= { drawing: 0, shown: null, source: "drawing", current: () => null };
const shared = window.digitdraw;
