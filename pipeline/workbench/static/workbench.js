// The workbench's one script: what the author types is checked by the lint (debounced), and a
// build's progress is shown as it goes. Every form also works without it.
"use strict";

function csrf(form) {
  return form.querySelector("input[name=csrf]").value;
}

function showFindings(editor, findings) {
  editor.ownerDocument.querySelectorAll("ul.findings").forEach((list) => { list.replaceChildren(); });
  for (const finding of findings) {
    const list = document.getElementById("findings-" + finding.box) || document.getElementById("findings-source");
    const item = document.createElement("li");
    item.className = finding.level;
    const level = document.createElement("span");
    level.className = "level";
    level.textContent = finding.level;
    const rule = document.createElement("span");
    rule.className = "rule";
    rule.textContent = "(" + finding.rule + ")";
    item.append(level, " line " + finding.line + ": " + finding.message + " ", rule);
    list.append(item);
  }
}

function watchEditor(editor) {
  let timer = null;
  let asked = 0;
  const lintNow = async () => {
    const mine = ++asked;
    const body = new FormData(editor);
    const response = await fetch(editor.dataset.lint, { method: "POST", body, headers: { "X-CSRF-Token": csrf(editor) } });
    if (response.ok && mine === asked) {
      showFindings(editor, await response.json());
    }
  };
  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lintNow, 600);
  });
}

function watchBuild(progress) {
  const poll = async () => {
    const response = await fetch(progress.dataset.progress);
    if (!response.ok) { return; }
    const job = await response.json();
    for (const [format, state] of Object.entries(job.formats || {})) {
      const cell = progress.querySelector(`td[data-format="${format}"]`);
      if (cell && cell.textContent !== state) { cell.textContent = state; }
    }
    if (job.state === "done" || job.state === "failed") {
      window.location.reload();
    } else {
      setTimeout(poll, 1500);
    }
  };
  if (progress.dataset.state === "queued" || progress.dataset.state === "running") {
    setTimeout(poll, 1500);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const editor = document.getElementById("editor");
  if (editor) { watchEditor(editor); }
  const progress = document.getElementById("progress");
  if (progress) { watchBuild(progress); }
});
