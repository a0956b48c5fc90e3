// Support dashboard: small progressive enhancement. Pages work without it (reload to see news).
// Text from jobs and Jobber is only ever set with textContent.
"use strict";

// A job page that is not finished follows the job: when its state changes, the page reloads.
function followJob(el) {
  const url = el.dataset.live;
  const shown = el.dataset.status;
  const tick = async () => {
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) {
        const s = await r.json();
        if (s.status !== shown) { window.location.reload(); return; }
      }
    } catch (e) { /* the server restarts: try again */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

// The doctor's checklist, streamed as Server-Sent Events: one row per step, updated in place.
const MARKS = { pass: "✓", fail: "✗", skip: "–", skipped: "–", warn: "!", running: "" };
function followDoctor(list) {
  const status = document.getElementById("doctor-status");
  const src = new EventSource(list.dataset.events);
  const row = (step) => {
    const id = "step-" + step.key;
    let li = document.getElementById(id);
    if (!li) {
      li = document.createElement("li");
      li.id = id;
      for (const cls of ["mark", "name", "time", "text"]) {
        const span = document.createElement("span");
        span.className = cls;
        li.appendChild(span);
      }
      list.appendChild(li);
    }
    return li;
  };
  src.addEventListener("step", (ev) => {
    const step = JSON.parse(ev.data);
    const li = row(step);
    li.className = step.status;
    li.dataset.testid = "doctor-step";
    li.querySelector(".mark").textContent = MARKS[step.status] ?? "";
    li.querySelector(".name").textContent = step.title;
    li.querySelector(".time").textContent = step.seconds != null ? step.seconds.toFixed(2) + " s" : "";
    const text = li.querySelector(".text");
    text.textContent = "";
    for (const [cls, value] of [["detail", step.detail], ["cause", step.cause], ["fix", step.fix]]) {
      if (!value) continue;
      const div = document.createElement("div");
      div.className = cls;
      div.textContent = (cls === "fix" ? "Fix: " : "") + value;
      text.appendChild(div);
    }
  });
  const ask = document.getElementById("doctor-ask");
  src.addEventListener("ask", (ev) => {
    const q = JSON.parse(ev.data);
    document.getElementById("doctor-ask-text").textContent =
      "Jobber sent a verification code (" + q.channel + (q.hint ? ", " + q.hint : "") + "); type it before " +
      q.deadline.replace("T", " ").replace("+00:00", " UTC") + ". Only a person has it: ask the merchant.";
    ask.hidden = false;
    ask.querySelector("input[name=code]").focus();
  });
  src.addEventListener("asked", () => { ask.hidden = true; });
  src.addEventListener("done", (ev) => {
    const end = JSON.parse(ev.data);
    status.textContent = end.summary;
    status.className = "big done " + (end.ok ? "ok" : "bad");
    src.close();
  });
  src.onerror = () => { if (src.readyState === EventSource.CLOSED) return; };
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.querySelector("[data-live]");
  if (live) followJob(live);
  const doctor = document.querySelector("ol.checklist[data-events]");
  if (doctor) followDoctor(doctor);
});
