// Copy buttons for Parley's own pages (demo, dashboard): <button data-copy="element-id">.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.getAttribute("data-copy")).textContent;
    navigator.clipboard.writeText(text).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select the text and copy it"; }
    );
  });
});
