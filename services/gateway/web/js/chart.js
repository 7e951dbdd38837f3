// The day as pictures: a mood band and a sleep/feed strip on one 24-hour axis (SVG).

import { MOODS, clock, svg } from "./ui.js";

const WIDTH = 600;
const AXIS = 18;

function axis(since, until, height) {
  const span = until - since;
  const ticks = [];
  const first = new Date(since);
  first.setMinutes(0, 0, 0);
  for (let t = first.getTime() + 3600_000; t < until; t += 3600_000) {
    const hour = new Date(t).getHours();
    if (hour % 3) continue;
    const x = ((t - since) / span) * WIDTH;
    if (x < 20 || x > WIDTH - 20) continue;  // a label at the edge would be cut in half
    ticks.push(svg("line", { x1: x, x2: x, y1: 0, y2: height, class: "tick" }));
    ticks.push(svg("text", { x, y: height + AXIS - 4, class: "tick-label", "text-anchor": "middle" },
      document.createTextNode(clock(t).replace(":00", ""))));
  }
  return ticks;
}

/** Mood buckets (from /api/timeline/mood) as stacked columns: each column's share of each mood. */
export function moodChart(buckets, since, until, describe) {
  const height = 90;
  const span = until - since;
  const columns = [];
  for (const bucket of buckets) {
    const total = Object.values(bucket.counts).reduce((a, b) => a + b, 0);
    if (!total) continue;
    const x = ((new Date(bucket.start) - since) / span) * WIDTH;
    const w = Math.max(((new Date(bucket.end) - new Date(bucket.start)) / span) * WIDTH, 1);
    let y = height;
    for (const mood of Object.keys(MOODS)) {
      const count = bucket.counts[mood] || 0;
      if (!count) continue;
      const h = (count / total) * height;
      y -= h;
      columns.push(svg("rect", { x, y, width: w, height: h, class: `mood-${mood}` }));
    }
  }
  return svg("svg", {
    viewBox: `0 0 ${WIDTH} ${height + AXIS}`, role: "img", "aria-label": describe, preserveAspectRatio: "none",
  }, svg("title", {}, document.createTextNode(describe)), ...columns, ...axis(since, until, height));
}

/** Sleep sessions as bands and feeds as marks under them. */
export function dayStrip(sleeps, feeds, since, until, describe) {
  const height = 60;
  const span = until - since;
  const place = (when) => Math.min(Math.max(((new Date(when) - since) / span) * WIDTH, 0), WIDTH);
  const bands = sleeps.map((s) => {
    const x = place(s.start);
    return svg("rect", {
      x, y: 4, width: Math.max(place(s.ongoing ? until : s.end) - x, 2), height: 30, rx: 4,
      class: "mood-sleep",
    });
  });
  const marks = feeds.map((f) => svg("circle", {
    cx: place(f.start), cy: 47, r: 6, class: "mood-feed",
  }));
  return svg("svg", { viewBox: `0 0 ${WIDTH} ${height + AXIS}`, role: "img", "aria-label": describe },
    svg("title", {}, document.createTextNode(describe)), ...bands, ...marks, ...axis(since, until, height));
}
