// Measures an admin page for tests/admin/test_every_page.py: how wide it is against the
// window, how tall the top bar is, which controls are too small to tap (under `tapMin`
// px), which elements poke out to the right (outside a .table-scroll, which scrolls by
// itself), and what the Content-Security-Policy refused or scripts threw (window.__problems,
// collected from the start by the test's init script).
(tapMin) => {
  const doc = document.documentElement;
  const header = document.querySelector(".topbar");
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const small = [];
  const controls = [
    "main button", "main select", "main .button",
    "main input:not([type=hidden]):not([type=checkbox]):not([type=radio])",
    ".topbar .nav a", ".topbar button", ".topbar input",
  ].join(", ");
  for (const el of document.querySelectorAll(controls)) {
    if (!visible(el)) continue;
    const h = el.getBoundingClientRect().height;
    if (h < tapMin) {
      small.push((el.id || el.name || el.textContent.trim().slice(0, 30) || name(el)) + " " + Math.round(h) + "px");
    }
  }
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && visible(el) && !el.closest(".table-scroll")) {
      wide.push(name(el) + " to " + Math.round(r.right) + "px");
    }
  }
  return {
    scrollWidth: doc.scrollWidth,
    innerWidth: window.innerWidth,
    header: header ? Math.round(header.getBoundingClientRect().height) : 0,
    small: small,
    wide: wide.slice(0, 5),
    problems: window.__problems || [],
  };
}
