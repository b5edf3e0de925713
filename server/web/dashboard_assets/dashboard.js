// Copy buttons and local times on the dashboard.
document.querySelectorAll('[data-copy]').forEach(function (button) {
  button.addEventListener('click', function () {
    var text = document.getElementById(button.getAttribute('data-copy')).textContent;
    navigator.clipboard.writeText(text).then(
      function () { button.textContent = 'Copied'; },
      function () { button.textContent = 'Select the text and copy it'; }
    );
  });
});
document.querySelectorAll('time[data-ms]').forEach(function (time) {
  time.textContent = new Date(Number(time.getAttribute('data-ms'))).toLocaleString();
});
