"use strict";
// Keeps the results page current: the counts and the pipeline status arrive over the event stream
// (/api/results/stream), the first of each as soon as it opens.
const number = new Intl.NumberFormat("en-US");
const optionTemplate = document.getElementById("option");
function timestamp(iso) {
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
function optionRow(option) {
  const row = optionTemplate.content.firstElementChild.cloneNode(true);
  row.querySelector(".label").textContent = option.label;
  row.querySelector(".count").textContent = `${number.format(option.count)} (${option.percent.toFixed(1)}%)`;
  row.querySelector(".bar > div").style.width = `${option.percent}%`;
  return row;
}
function render(results) {
  document.getElementById("options").replaceChildren(...results.options.map(optionRow));
  document.getElementById("total").textContent = `${number.format(results.total)} votes`;
  document.getElementById("read-at").textContent = `Counted at ${timestamp(results.readAt)}`;
}
function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
}
function renderPipeline(status) {
  const rows = status.frontends.map(f => {
    const row = document.createElement("tr");
    cell(row, f.frontendId);
    cell(row, number.format(f.waiting));
    cell(row, f.waiting > 0 ? `${f.oldestWaitSeconds.toFixed(1)} s` : "-");
    cell(row, number.format(Math.round(f.drainRate)));
    cell(row, f.failing ? "failing" : "draining", f.failing ? "error" : "");
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement("tr");
    cell(row, status.available ? "No front end has registered yet." : "The pipeline status cannot be read right now.");
    row.firstChild.colSpan = 5;
    rows.push(row);
  }
  document.getElementById("pipeline-rows").replaceChildren(...rows);
  document.getElementById("pipeline-note").textContent = `Asked at ${timestamp(status.readAt)}`;
}
const events = new EventSource("/api/results/stream");
events.addEventListener("results", event => render(JSON.parse(event.data)));
events.addEventListener("pipeline", event => renderPipeline(JSON.parse(event.data)));
// Under embargo the stream sends no counts, only when they will be announced; on release, the counts follow.
events.addEventListener("embargo", event => {
  const embargo = JSON.parse(event.data);
  document.getElementById("pipeline").hidden = embargo.withheld;
  if (embargo.withheld) {
    document.getElementById("options").replaceChildren();
    document.getElementById("total").textContent = embargo.sentence;
    document.getElementById("read-at").textContent = "";
  }
});
