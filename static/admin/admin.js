// The admin's one script: small behaviours switched on by data- attributes, so pages carry
// no inline script (the Content-Security-Policy allows scripts from this site only) and a
// new page gets them by writing the attribute. Conventions: docs/admin.md.
(function () {
  "use strict";
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // The menu button of the slim top bar (phones); without this script, #nav:target opens it.
  $$("[data-menu-toggle]").forEach((button) => {
    const nav = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });

  // <button data-print>: print the page.
  $$("[data-print]").forEach((el) => el.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  }));

  // <form data-confirm="Deactivate Sam?">: ask first.
  $$("form[data-confirm]").forEach((form) => form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  }));

  // <div data-reload-after="5">: reload after that many seconds (progress pages).
  $$("[data-reload-after]").forEach((el) => {
    setTimeout(() => window.location.reload(), 1000 * Number(el.dataset.reloadAfter || 5));
  });

  // <a data-back href="...">: back to the page before (the refused form, with what was
  // typed still in it) when that page is the link's; else the link itself.
  $$("[data-back]").forEach((link) => link.addEventListener("click", (event) => {
    if (window.history.length > 1 && document.referrer === link.href) {
      event.preventDefault();
      window.history.back();
    }
  }));

  // <button data-copy="#id">: copy that element's text.
  $$("[data-copy]").forEach((button) => button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch (e) {
      window.getSelection().selectAllChildren(source);  // select it for a manual copy
    }
  }));

  // <select data-insert-into="#reply-body"> of canned replies: the chosen text goes into the
  // reply box at the cursor (replacing a selection), ready to edit before sending.
  $$("[data-insert-into]").forEach((select) => select.addEventListener("change", () => {
    const box = document.querySelector(select.dataset.insertInto);
    const option = select.selectedOptions[0];
    if (!box || !option || !option.value) { return; }
    const text = option.dataset.body || "";
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
    select.value = "";
  }));

  // <input type="checkbox" data-check-all="code">: ticks or unticks every checkbox named
  // "code" in the same form (the crisis page's Select all).
  $$("[data-check-all]").forEach((box) => box.addEventListener("change", () => {
    $$(`input[type=checkbox][name="${box.dataset.checkAll}"]`, box.form || document)
      .forEach((other) => { other.checked = box.checked; });
  }));

  // <div data-preview-url=... data-preview-form="#form">: while the form is edited, the
  // element shows the text that URL returns for the form's fields (JSON {text}), so a
  // preview follows what is typed (the crisis message follows the reason).
  $$("[data-preview-url]").forEach((view) => {
    const form = document.querySelector(view.dataset.previewForm);
    if (!form) { return; }
    let timer = null;
    const refresh = async () => {
      const params = new URLSearchParams();
      for (const [key, value] of new FormData(form)) {
        if (key !== "csrf_token" && key !== "message" && typeof value === "string") { params.append(key, value); }
      }
      try {
        const res = await fetch(`${view.dataset.previewUrl}?${params}`, {credentials: "same-origin"});
        if (res.ok) { view.textContent = (await res.json()).text; }
      } catch (e) { /* keep the last preview */ }
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  });

  // <div id=... data-refresh-url="signature URL">: when the JSON at that URL changes, fetch
  // this page again and swap this element for its fresh copy (the inbox list).
  $$("[data-refresh-url]").forEach((view) => {
    let last = null;
    async function tick() {
      try {
        const res = await fetch(view.dataset.refreshUrl, {credentials: "same-origin"});
        const key = await res.text();
        if (last !== null && key !== last) {
          const html = await (await fetch(window.location.href, {credentials: "same-origin"})).text();
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(view.id);
          const current = document.getElementById(view.id);
          if (fresh && current) { current.replaceWith(fresh); }
        }
        last = key;
      } catch (e) { /* offline for a moment: try again next tick */ }
    }
    tick();
    setInterval(tick, 3000);
  });

  // <div class="thread" data-poll-url=... data-after=last id>: new messages are appended and
  // delivery statuses refreshed every 3 s; the thread opens scrolled to the newest message.
  $$("[data-poll-url]").forEach((thread) => {
    const nearBottom = () => thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    thread.scrollTop = thread.scrollHeight;
    async function tick() {
      try {
        const url = new URL(thread.dataset.pollUrl, window.location.href);
        url.searchParams.set("after", thread.dataset.after || "0");
        const data = await (await fetch(url, {credentials: "same-origin"})).json();
        const follow = nearBottom();
        if (data.html.trim()) { thread.insertAdjacentHTML("beforeend", data.html); }
        thread.dataset.after = data.last_id;
        for (const [id, info] of Object.entries(data.statuses)) {
          const badge = thread.querySelector(`[data-message="${id}"] [data-status]`);
          const text = String(info[0]).replace("_", " ");
          if (badge && badge.textContent !== text) { badge.textContent = text; badge.className = "badge " + info[0]; }
        }
        if (follow && data.html.trim()) { thread.scrollTop = thread.scrollHeight; }
      } catch (e) { /* try again next tick */ }
    }
    setInterval(tick, 3000);
  });

  // <input data-lookup-url=... data-lookup-into="#el" data-lookup-name="#name">: the caller
  // recognised while their number is typed (returning, their history, a link); their name
  // filled in when the name field is still empty.
  $$("[data-lookup-url]").forEach((input) => {
    const into = document.querySelector(input.dataset.lookupInto);
    const name = document.querySelector(input.dataset.lookupName);
    let timer = null;
    let asked = "";
    async function look() {
      const phone = input.value.trim();
      if (phone === asked || phone.replace(/\D/g, "").length < 6) { return; }
      asked = phone;
      try {
        const url = new URL(input.dataset.lookupUrl, window.location.href);
        url.searchParams.set("phone", phone);
        const data = await (await fetch(url, {credentials: "same-origin"})).json();
        if (phone !== input.value.trim()) { return; }
        into.textContent = "";
        if (!data.found) { into.textContent = "New customer: created with this number."; return; }
        if (data.returning) {
          const badge = document.createElement("span");
          badge.className = "badge good";
          badge.textContent = "returning";
          into.append(badge, " ");
        }
        const link = document.createElement("a");
        link.href = data.url;
        link.textContent = data.name || phone;
        into.append(link, ": " + data.summary);
        if (name && !name.value && data.name) { name.value = data.name; }
      } catch (e) { /* offline for a moment: the booking still finds them by number */ }
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(look, 250); });
    input.addEventListener("change", look);
  });
})();
