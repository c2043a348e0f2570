// Reporting dashboard: vanilla JS + inline SVG, no external resources.
// The bearer token lives in sessionStorage (gone when the tab closes); every number comes from /api/v1/reports/*.
"use strict";
(function () {
  const T = {
    ko: {
      title: "교육훈련 통계 대시보드", year: "연도", token: "인증 토큰", load: "조회", summary: "교육훈련 총괄표",
      kind: "구분", courses: "과정 수", seats: "인원(명)", prevCourses: "전년 과정 수", prevSeats: "전년 인원(명)",
      chgCourses: "증감 과정", chgSeats: "증감 인원", enrolled: "수강확정", completed: "수료", rate: "수료율(%)",
      changeType: "개편 유형", classroom: "집합", elearning: "e-러닝", total: "계", planDoc: "계획서(계)",
      pvaYear: "연도별 계획 대비 실적", yearCol: "연도", planned: "계획(명)", actual: "실적(명)", achievement: "달성률(%)",
      source: "출처", pvaNote: "실적 = 수료 인원. '17·'18년은 계획서의 수치입니다.", pvaArea: "역량분야별 계획 대비 실적",
      orgCompletion: "기관유형별 수료율", monthly: "월별 수강신청 (교육 시작월 기준)", enrollments: "신청 건수",
      peak: "집중 월 (3월·9월)", lang: "English", needToken: "인증 토큰을 입력하세요.", loading: "불러오는 중…",
      loaded: "갱신됨", error: "오류", readModel: "통계", planDocument: "계획서", prevFrom: "전년도 수치 출처",
      matches: "계획서 수치와 일치합니다.", noData: "자료 없음", month: "월", finalOnly: "수료율 = 수료 ÷ (수료+미수료+불참)",
      change: { new: "신설", merged_replaced_abolished: "통합·대체·폐지", improved: "개선", continuing: "계속" },
      delivery: { classroom: "집합", elearning: "e-러닝", total: "계" },
    },
    en: {
      title: "Training statistics dashboard", year: "Year", token: "Bearer token", load: "Load", summary: "Training summary",
      kind: "Delivery", courses: "Courses", seats: "Seats", prevCourses: "Prev. courses", prevSeats: "Prev. seats",
      chgCourses: "Δ courses", chgSeats: "Δ seats", enrolled: "Enrolled", completed: "Completed", rate: "Completion (%)",
      changeType: "Change type", classroom: "Classroom", elearning: "E-learning", total: "Total", planDoc: "Plan doc (total)",
      pvaYear: "Plan vs actual by year", yearCol: "Year", planned: "Planned", actual: "Actual", achievement: "Achieved (%)",
      source: "Source", pvaNote: "Actual = trainees who completed. 2017 and 2018 are the plan document's figures.",
      pvaArea: "Plan vs actual by competency area", orgCompletion: "Completion rate by organisation type",
      monthly: "Enrollments by month (session start)", enrollments: "Enrollments", peak: "Peak months (Mar, Sep)",
      lang: "한국어", needToken: "Enter a bearer token.", loading: "Loading…", loaded: "Updated", error: "Error",
      readModel: "read model", planDocument: "plan document", prevFrom: "Previous year from",
      matches: "Matches the plan document.", noData: "No data", month: "", finalOnly: "Completion = completed ÷ (completed + failed + no-show)",
      change: { new: "New", merged_replaced_abolished: "Merged/replaced/abolished", improved: "Improved", continuing: "Continuing" },
      delivery: { classroom: "Classroom", elearning: "E-learning", total: "Total" },
    },
  };
  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;
  let lang = store.getItem("hrd_lang") || (new URLSearchParams(location.search).get("lang") === "en" ? "en" : "ko");
  const t = (k) => T[lang][k];
  const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("ko-KR"));
  const signed = (n) => (n === null || n === undefined ? "–" : (n > 0 ? "+" : "") + Number(n).toLocaleString("ko-KR"));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c === null || c === undefined ? "" : c);
    return node;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function sv(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    $("lang").textContent = t("lang");
    document.title = t("title");
  }

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function api(path) {
    const token = store.getItem("hrd_token");
    const res = await fetch(path + (path.includes("?") ? "&" : "?") + "lang=" + lang, {
      headers: { Authorization: "Bearer " + token, "Accept-Language": lang },
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || res.status);
    return body;
  }

  function renderSummary(s) {
    const tbody = $("summary-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const line of s.lines) {
      const key = line.delivery;
      const row = el("tr", { "data-row": key, class: key === "total" ? "total" : "" },
        el("td", {}, t("delivery")[key] || line.label_ko),
        el("td", { "data-cell": key + "-courses" }, fmt(line.courses)),
        el("td", { "data-cell": key + "-seats" }, fmt(line.seats)),
        el("td", {}, fmt(line.previous_courses)), el("td", {}, fmt(line.previous_seats)),
        el("td", {}, signed(line.change_courses)), el("td", {}, signed(line.change_seats)),
        el("td", { "data-cell": key + "-enrolled" }, fmt(line.enrolled)),
        el("td", { "data-cell": key + "-completed" }, fmt(line.completed)),
        el("td", {}, line.completion_rate === null ? "–" : line.completion_rate.toFixed(1)));
      tbody.append(row);
    }
    const notes = [];
    if (s.previous_source) notes.push(t("prevFrom") + ": " + (s.previous_source === "read_model" ? t("readModel") : s.previous_source));
    if (s.reference) notes.push(s.reference_differences.length ? s.reference_differences.join(" / ") : t("matches"));
    notes.push(t("finalOnly"));
    $("summary-note").textContent = notes.join(" · ");
    const cbody = $("change-table").querySelector("tbody");
    cbody.replaceChildren();
    for (const c of s.change_types) {
      cbody.append(el("tr", {}, el("td", {}, t("change")[c.change_type] || c.label_ko), el("td", {}, fmt(c.classroom)),
        el("td", {}, fmt(c.elearning)), el("td", {}, fmt(c.total)), el("td", {}, fmt(c.reference_total))));
    }
  }

  function renderPvaYear(p) {
    const tbody = $("pva-year-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const line of p.items) {
      tbody.append(el("tr", { "data-year": line.key }, el("td", {}, line.key), el("td", {}, fmt(line.planned)),
        el("td", {}, fmt(line.actual)), el("td", {}, line.achievement_rate === null ? "–" : line.achievement_rate.toFixed(1)),
        el("td", {}, line.source === "read_model" ? t("readModel") : t("planDocument"))));
    }
  }

  function barChart(container, groups, series, opts) {
    // groups: [{label, values: [..per series], highlight}], series: [{name, color}]
    const width = 560, height = opts.height || 260, left = 64, bottom = 34, top = 14;
    const max = Math.max(1, ...groups.flatMap((g) => g.values.filter((v) => v !== null)));
    const svg = sv("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": opts.title });
    const plotH = height - top - bottom, plotW = width - left - 8;
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      svg.append(sv("line", { x1: left, x2: width - 8, y1: y, y2: y, stroke: "#e3e8ee" }));
      svg.append(sv("text", { x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6776" }, fmt(Math.round((max * i) / 4))));
    }
    const gw = plotW / Math.max(1, groups.length), bw = Math.min(40, (gw * 0.8) / series.length);
    groups.forEach((g, gi) => {
      const x0 = left + gi * gw + (gw - bw * series.length) / 2;
      g.values.forEach((v, si) => {
        const h = v ? (plotH * v) / max : 0;
        const color = g.highlight && series[si].highlight ? series[si].highlight : series[si].color;
        const bar = sv("rect", { x: x0 + si * bw, y: top + plotH - h, width: bw - 2, height: h, fill: color,
          "data-group": g.key, "data-series": series[si].key, "data-value": v === null ? "" : v });
        bar.append(sv("title", {}, `${g.label} · ${series[si].name}: ${fmt(v)}`));
        svg.append(bar);
      });
      if (opts.annotate) {  // actual figures are tiny next to the plan: print them above the group
        const top0 = top + plotH - (plotH * Math.max(...g.values.filter((v) => v !== null), 0)) / max;
        svg.append(sv("text", { x: left + gi * gw + gw / 2, y: Math.max(11, top0 - 4), "text-anchor": "middle",
          "font-size": 11, fill: "#1d2733", "data-annotation": g.key }, opts.annotate(g)));
      }
      svg.append(sv("text", { x: left + gi * gw + gw / 2, y: height - bottom + 16, "text-anchor": "middle", "font-size": 12, fill: "#1d2733" }, g.label));
    });
    container.replaceChildren(svg);
  }

  function renderArea(p) {
    const groups = p.items.map((l) => ({ key: l.key, label: lang === "en" ? l.label_en || l.label : l.label,
      values: [l.planned, l.enrolled, l.completed] }));
    if (!groups.length) { $("area-chart").textContent = t("noData"); return; }
    barChart($("area-chart"), groups, [
      { key: "planned", name: t("planned"), color: "#9bb4d3" },
      { key: "enrolled", name: t("enrolled"), color: "#2f6fb3" },
      { key: "completed", name: t("completed"), color: "#1f9d74" }],
      { title: t("pvaArea"), annotate: (g) => `${fmt(g.values[1])} · ${fmt(g.values[2])} / ${fmt(g.values[0])}` });
  }

  function renderOrg(p) {
    const box = $("org-chart");
    if (!p.items.length) { box.textContent = t("noData"); return; }
    const rowH = 28, width = 600, left = 200, height = p.items.length * rowH + 10;
    const svg = sv("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": t("orgCompletion") });
    p.items.forEach((o, i) => {
      const y = 5 + i * rowH, rate = o.completion_rate, w = rate === null ? 0 : ((width - left - 120) * rate) / 100;
      svg.append(sv("text", { x: left - 8, y: y + 17, "text-anchor": "end", "font-size": 12 }, o.label));
      svg.append(sv("rect", { x: left, y: y + 4, width: width - left - 120, height: 18, fill: "#eef2f7" }));
      const bar = sv("rect", { x: left, y: y + 4, width: w, height: 18, fill: "#1f9d74", "data-org": o.key, "data-rate": rate === null ? "" : rate });
      bar.append(sv("title", {}, `${o.label}: ${rate === null ? "–" : rate.toFixed(1) + "%"}`));
      svg.append(bar);
      svg.append(sv("text", { x: width - 112, y: y + 17, "font-size": 12, fill: "#1d2733", "data-org-label": o.key },
        `${rate === null ? "–" : rate.toFixed(1) + "%"} (${fmt(o.completed)}/${fmt(o.completed + o.failed + o.no_show)})`));
    });
    box.replaceChildren(svg);
  }

  function renderMonths(p) {
    const items = p.items.filter((m) => m.month !== null);
    const groups = items.map((m) => ({ key: m.key, label: lang === "en" ? String(m.month) : m.label,
      values: [m.enrollments], highlight: m.month === 3 || m.month === 9 }));
    barChart($("month-chart"), groups, [{ key: "enrollments", name: t("enrollments"), color: "#2f6fb3", highlight: "#d9822b" }],
      { title: t("monthly"), height: 240 });
  }

  async function load() {
    const tokenInput = $("token").value.trim();
    if (tokenInput) { store.setItem("hrd_token", tokenInput.replace(/^Bearer\s+/i, "")); $("token").value = ""; }
    if (!store.getItem("hrd_token")) { setStatus(t("needToken"), true); return; }
    const year = parseInt($("year").value, 10);
    store.setItem("hrd_year", String(year));
    setStatus(t("loading"));
    try {
      const [summary, pvaYear, pvaArea, orgs, months] = await Promise.all([
        api(`/api/v1/reports/summary?year=${year}`),
        api(`/api/v1/reports/plan-vs-actual?year=${year}&by=year`),
        api(`/api/v1/reports/plan-vs-actual?year=${year}&by=area`),
        api(`/api/v1/reports/organisations?year=${year}`),
        api(`/api/v1/reports/months?year=${year}`),
      ]);
      renderSummary(summary); renderPvaYear(pvaYear); renderArea(pvaArea); renderOrg(orgs); renderMonths(months);
      setStatus(`${t("loaded")} ${new Date().toLocaleTimeString(lang === "en" ? "en-GB" : "ko-KR", { timeZone: "Asia/Seoul" })}`);
      document.body.dataset.loaded = String(Date.now());
    } catch (err) {
      setStatus(`${t("error")}: ${err.message}`, true);
    }
  }

  $("load").addEventListener("click", load);
  $("token").addEventListener("keydown", (e) => { if (e.key === "Enter") load(); });
  $("lang").addEventListener("click", () => { lang = lang === "ko" ? "en" : "ko"; store.setItem("hrd_lang", lang); applyLang(); if (store.getItem("hrd_token")) load(); });
  if (store.getItem("hrd_year")) $("year").value = store.getItem("hrd_year");
  applyLang();
  if (store.getItem("hrd_token")) load();
})();
