// Progressive enhancement only: every page works without this file.
// 1. Tell the server the browser's time zone, so times read in it.
(function () {
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("accord_tz=" + encodeURIComponent(tz)) === -1) {
      document.cookie = "accord_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
      if (document.body && document.body.dataset.tz === "UTC" && tz !== "UTC" && !sessionStorage.getItem("accord_tz")) {
        sessionStorage.setItem("accord_tz", "1");
        location.reload();
      }
    }
  } catch (e) {}
})();
// 2. Ask before a button marked data-confirm does something final.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.dataset && b.dataset.confirm && !window.confirm(b.dataset.confirm)) {
    e.preventDefault();
  }
});
