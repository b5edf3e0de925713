// Local times on the dashboard (copy buttons come from /widget/shared/copy-buttons.js).
document.querySelectorAll('time[data-ms]').forEach(function (time) {
  time.textContent = new Date(Number(time.getAttribute('data-ms'))).toLocaleString();
});
