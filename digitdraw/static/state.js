// window.digitdraw: the one object the page's components share (prepended to each component's
// js_on_load by digitdraw/components.py; whichever loads first makes it).
//   drawing  the pad's current drawing id: every change to the pad's strokes makes a new one
//   shown    the drawing id whose answer is on the Draw tab (tests wait for shown === drawing)
//   current  () => the pad's drawing as the pad sends it ({id, width, height, brush, strokes})
//   upload   the Upload tab's current image: {id, image (a data URL), shown (the id on screen)}
window.digitdraw ??= { drawing: 0, shown: null, current: () => null, upload: { id: 0, image: null, shown: null } };
const shared = window.digitdraw;
