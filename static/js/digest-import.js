// The import page: refuse an oversized paste before it is sent (the server refuses it too,
// but a request that large is cut off before the form can say why).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector(".digest-import form[data-max-bytes]");
  if (!form) return;
  const limit = Number(form.dataset.maxBytes);
  form.addEventListener("submit", (event) => {
    const text = form.querySelector("textarea[name=text]");
    const file = form.querySelector("input[type=file]");
    const size = Math.max(
      text ? new Blob([text.value]).size : 0,
      file && file.files.length ? file.files[0].size : 0,
    );
    if (size > limit) {
      event.preventDefault();
      window.alert(form.dataset.tooBig);
    }
  });
});
