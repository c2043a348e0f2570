// Admin page for bulk enrollment: dry run → preview → start → live progress → error report.
// Vanilla JS, no external assets. The bearer token stays in sessionStorage (this tab only).
(function () {
  "use strict";
  var API = "/api/v1/bulk-enrollments";
  var T = {
    ko: {
      title: "신규임용자 일괄 등록", auth: "1. 관리자 인증",
      authHint: "관리자 토큰(Bearer)을 붙여 넣으세요. 이 탭에서만 보관됩니다.", saveToken: "저장",
      upload: "2. 명단 파일 선택",
      uploadHint: "인사 시스템에서 내려받은 CSV(UTF-8, CP949) 또는 XLSX 파일. 열: 사번, 성명, 소속, 직급, 직렬, 임용예정일, 이메일, 휴대전화",
      dryRun: "사전 점검", start: "등록 시작", preview: "3. 사전 점검 결과", rows: "행", trainees: "교육생",
      enrollments: "수강신청", stage: "단계", session: "회차", dates: "기간", confirmed: "확정", waitlisted: "대기",
      seatsLeft: "잔여석", progress: "4. 진행 상황", errors: "오류 행", line: "행", empNo: "사번", reason: "사유",
      download: "오류 보고서 내려받기 (CSV)", tokenSaved: "저장됨", tokenMissing: "토큰을 먼저 입력하세요.",
      fileMissing: "파일을 선택하세요.", uploading: "업로드 중…", checking: "점검 중…",
      rowsSummary: "전체 {total}행 · 정상 {ok} · 오류 {failed}",
      traineesSummary: "신규 {new} · 변경 {updated} · 변경 없음 {unchanged}",
      enrollSummary: "신규 {new} (확정 {confirmed}, 대기 {waitlisted}) · 기존 유지 {existing}",
      progressText: "{done}/{total}행 완료 · 오류 {failed} · {rate}행/초 · 남은 시간 {eta}초",
      reading: "파일 읽는 중… {read}행",
      doneText: "완료: 교육생 신규 {tc} · 변경 {tu} / 수강신청 {ec} (확정 {cf}, 대기 {wl}) · 오류 {failed}행",
      failedText: "실패: {msg}", dryDone: "점검 완료. 내용을 확인한 뒤 ‘등록 시작’을 누르세요.",
      started: "등록을 시작했습니다.", seq: "{n}회차"
    },
    en: {
      title: "Bulk enrollment of new hires", auth: "1. Administrator token",
      authHint: "Paste an administrator bearer token. It is kept for this tab only.", saveToken: "Save",
      upload: "2. Choose the new-hire file",
      uploadHint: "CSV (UTF-8, CP949) or XLSX exported by the personnel system. Columns: employee no., name, organisation, grade, job series, appointment date, e-mail, mobile",
      dryRun: "Dry run", start: "Start enrollment", preview: "3. Dry-run preview", rows: "Rows", trainees: "Trainees",
      enrollments: "Enrollments", stage: "Stage", session: "Session", dates: "Dates", confirmed: "Confirmed",
      waitlisted: "Waitlisted", seatsLeft: "Seats left", progress: "4. Progress", errors: "Rejected rows",
      line: "Line", empNo: "Employee no.", reason: "Reason", download: "Download error report (CSV)",
      tokenSaved: "saved", tokenMissing: "Enter the token first.", fileMissing: "Choose a file.",
      uploading: "Uploading…", checking: "Checking…",
      rowsSummary: "{total} rows · {ok} ok · {failed} rejected",
      traineesSummary: "{new} new · {updated} updated · {unchanged} unchanged",
      enrollSummary: "{new} new ({confirmed} confirmed, {waitlisted} waitlisted) · {existing} kept",
      progressText: "{done}/{total} rows done · {failed} rejected · {rate} rows/s · ETA {eta} s",
      reading: "Reading the file… {read} rows",
      doneText: "Done: trainees {tc} new · {tu} updated / enrollments {ec} ({cf} confirmed, {wl} waitlisted) · {failed} rows rejected",
      failedText: "Failed: {msg}", dryDone: "Dry run finished. Check the preview, then press ‘Start enrollment’.",
      started: "Enrollment started.", seq: "session {n}"
    }
  };
  var lang = localStorage.getItem("hrd.lang") || "ko";
  var dryJob = null, job = null, lastJobView = null, dryView = null, lastSay = null;

  function $(id) { return document.getElementById(id); }
  function t(key, vars) {
    var s = (T[lang] && T[lang][key]) || T.ko[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(vars[k] == null ? "-" : vars[k]); });
    return s;
  }
  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll(".lang-btn").forEach(function (b) { b.classList.toggle("active", b.dataset.lang === lang); });
    if (token()) { $("token-state").textContent = t("tokenSaved"); }
    if (dryView && dryView.preview) { renderPreview(dryView.preview); }
    if (lastJobView) { render(lastJobView); }
    if (lastSay) { say(lastSay[0], lastSay[1], lastSay[2]); }
  }
  function token() { return sessionStorage.getItem("hrd.token") || ""; }
  // say(key, vars) for a translated message (re-rendered on a language switch), say(text) for server text
  function say(keyOrText, varsOrError, isError) {
    var known = T.ko[keyOrText] !== undefined;
    lastSay = [keyOrText, varsOrError, isError];
    var m = $("message");
    m.textContent = known ? t(keyOrText, typeof varsOrError === "object" ? varsOrError : null) : keyOrText;
    m.className = "message" + ((isError || varsOrError === true) ? " error" : "");
  }
  function api(method, path, body) {
    var headers = {"Authorization": "Bearer " + token(), "Accept-Language": lang};
    return fetch(path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang, {method: method, headers: headers, body: body})
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { var e = new Error(data.message || r.statusText); e.data = data; throw e; }
          return data;
        });
      });
  }
  function upload(dryRun) {
    if (!token()) { say("tokenMissing", true); return; }
    var f = $("file").files[0];
    if (!f) { say("fileMissing", true); return; }
    var form = new FormData();
    form.append("file", f);
    form.append("dry_run", dryRun ? "true" : "false");
    say("uploading");
    job = null;
    $("start").disabled = true;
    api("POST", API, form).then(function (j) { dryJob = j; poll(j.id); }).catch(showError);
  }
  function showError(e) {
    var detail = e.data && e.data.errors ? " " + JSON.stringify(e.data.errors) : "";
    say(e.message + detail, true);
  }
  function poll(id) {
    api("GET", API + "/" + id).then(function (j) {
      render(j);
      if (j.state === "done" || j.state === "failed") { return; }
      setTimeout(function () { poll(id); }, 300);
    }).catch(showError);
  }
  function fmt(n) { return n == null ? "-" : Number(n).toLocaleString(lang === "ko" ? "ko-KR" : "en-US"); }
  function render(j) {
    lastJobView = j;
    var p = j.progress;
    if (j.dry_run) {
      dryView = j;
      if (j.state === "done" && j.preview) { renderPreview(j.preview); say("dryDone"); $("start").disabled = !!job; }
      else if (j.state === "failed") { say("failedText", {msg: j.error && (lang === "en" ? j.error.message_en : j.error.message_ko)}, true); }
      else { say("reading", {read: fmt(p.rows_read)}); }
    } else {
      $("progress-section").hidden = false;
      var pct = p.percent || 0;
      $("bar-fill").style.width = pct + "%";
      $("bar-label").textContent = pct.toFixed(0) + "%";
      $("bar").setAttribute("aria-valuenow", String(pct));
      $("progress-text").textContent = p.rows_total == null ? t("reading", {read: fmt(p.rows_read)}) :
        t("progressText", {done: fmt(p.rows_done + p.rows_failed), total: fmt(p.rows_total), failed: fmt(p.rows_failed),
          rate: fmt(p.rate_rows_per_s), eta: j.state === "done" ? 0 : (p.eta_seconds == null ? "-" : p.eta_seconds)});
      if (j.state === "done") {
        $("result-text").textContent = t("doneText", {tc: fmt(j.trainees.created), tu: fmt(j.trainees.updated),
          ec: fmt(j.enrollments.created), cf: fmt(j.enrollments.confirmed), wl: fmt(j.enrollments.waitlisted),
          failed: fmt(p.rows_failed)});
        document.body.dataset.jobState = "done";
      } else if (j.state === "failed") {
        $("result-text").textContent = t("failedText", {msg: j.error && (lang === "en" ? j.error.message_en : j.error.message_ko)});
        document.body.dataset.jobState = "failed";
      }
    }
    renderErrors(j);
  }
  function renderPreview(pv) {
    $("preview-section").hidden = false;
    $("pv-rows").textContent = t("rowsSummary", {total: fmt(pv.rows.total), ok: fmt(pv.rows.ok), failed: fmt(pv.rows.failed)});
    $("pv-trainees").textContent = t("traineesSummary", {"new": fmt(pv.trainees["new"]), updated: fmt(pv.trainees.updated), unchanged: fmt(pv.trainees.unchanged)});
    $("pv-enrollments").textContent = t("enrollSummary", {"new": fmt(pv.enrollments["new"]), confirmed: fmt(pv.enrollments.confirmed),
      waitlisted: fmt(pv.enrollments.waitlisted), existing: fmt(pv.enrollments.existing)});
    var body = $("pv-sessions");
    body.textContent = "";
    pv.stages.forEach(function (st) {
      st.sessions.forEach(function (s) {
        var tr = document.createElement("tr");
        [lang === "en" ? st.name_en : st.name_ko, s.course + " · " + t("seq", {n: s.seq_no}), s.starts_on + " ~ " + s.ends_on,
          fmt(s.confirmed), fmt(s.waitlisted), fmt(s.seats_free_after)].forEach(function (v) {
          var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
  }
  function renderErrors(j) {
    var rows = j.errors_sample || [];
    var failed = j.progress.rows_failed;
    $("errors-section").hidden = !(failed > 0 && (j.state === "done" || j.state === "failed"));
    var body = $("errors-body");
    body.textContent = "";
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      [e.line, e.employee_no || "", lang === "en" ? e.reason_en : e.reason_ko].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function downloadErrors() {
    var j = lastJobView;
    if (!j) { return; }
    fetch(API + "/" + j.id + "/errors.csv", {headers: {"Authorization": "Bearer " + token()}})
      .then(function (r) { if (!r.ok) { throw new Error(r.statusText); } return r.blob(); })
      .then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "bulk-" + j.id + "-errors.csv";
        document.body.appendChild(a); a.click(); a.remove();
      }).catch(showError);
  }

  $("save-token").addEventListener("click", function () {
    sessionStorage.setItem("hrd.token", $("token").value.trim());
    $("token-state").textContent = t("tokenSaved");
  });
  $("dry-run").addEventListener("click", function () { upload(true); });
  $("start").addEventListener("click", function () {
    if (!dryJob) { upload(false); return; }
    $("start").disabled = true;
    api("POST", API + "/" + dryJob.id + "/start").then(function (j) { job = j; say("started"); poll(j.id); }).catch(showError);
  });
  $("download-errors").addEventListener("click", downloadErrors);
  document.querySelectorAll(".lang-btn").forEach(function (b) {
    b.addEventListener("click", function () { lang = b.dataset.lang; localStorage.setItem("hrd.lang", lang); applyLang(); });
  });
  $("token").value = token();
  if (token()) { $("token-state").textContent = t("tokenSaved"); }
  applyLang();
})();
