// Report charts, drawn by Chart.js (static/vendor/chartjs) from the figures the page
// embeds as JSON; the tables beside them carry the same numbers for screen readers and CSV.

const Chart = window.Chart;

function data(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas || !Chart) return;
  new Chart(canvas, { ...config, options: { responsive: true, animation: false, ...(config.options || {}) } });
}

const report = data("report-data");
if (report) {
  draw("chart-trend", {
    type: "line",
    data: {
      labels: report.trend.map((d) => d.day),
      datasets: [
        { label: "Conversations", data: report.trend.map((d) => d.conversations) },
        { label: "Chatted", data: report.trend.map((d) => d.chatted) },
        { label: "Resolved by an article", data: report.trend.map((d) => d.resolved_by_article) },
      ],
    },
  });
  const outcomes = report.outcomes;
  draw("chart-outcomes", {
    type: "doughnut",
    data: {
      labels: ["Resolved by an article", "Chatted", "Abandoned in queue", "Left before queueing", "Offline messages"],
      datasets: [{ data: [outcomes.resolved_by_article, outcomes.chatted, outcomes.abandoned_in_queue, outcomes.left_before_queueing, outcomes.offline_messages] }],
    },
  });
  draw("chart-csat", {
    type: "bar",
    data: { labels: ["1", "2", "3", "4", "5"], datasets: [{ label: "Answers", data: ["1", "2", "3", "4", "5"].map((r) => report.csat.distribution[r]) }] },
  });
  const hours = Array.from({ length: 24 }, (_, h) => report.by_weekday_hour.reduce((sum, day) => sum + day[h], 0));
  draw("chart-hours", { type: "bar", data: { labels: hours.map((_, h) => String(h).padStart(2, "0")), datasets: [{ label: "Conversations", data: hours }] } });
  draw("chart-accuracy", {
    type: "scatter",
    data: { datasets: [{ label: "Customers", data: report.wait_accuracy.recent.map((p) => ({ x: p.quoted, y: p.actual })) }] },
    options: { scales: { x: { title: { display: true, text: "quoted" } }, y: { title: { display: true, text: "waited" } } } },
  });
}

const billing = data("billing-data");
if (billing) {
  draw("chart-invoice", {
    type: "bar",
    data: { labels: billing.brands.map((b) => b.name), datasets: [{ label: "Agent hours", data: billing.brands.map((b) => b.billable_hours) }] },
  });
}
