// The digest export page: "Copy for WeChat" puts the article on the clipboard as rich text
// (an HTML item, which the WeChat editor pastes with its inline styles) with a plain-text
// item for fields that take text only. Without the asynchronous clipboard API (an older
// browser, or a page not served over HTTPS), the HTML is selected for copying by hand.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("wechat-copy");
  if (!button) return;
  const html = document.getElementById("wechat-html");
  const text = document.getElementById("wechat-text");
  const status = document.getElementById("wechat-copy-status");

  const say = (message) => {
    status.textContent = message;
  };

  button.addEventListener("click", async () => {
    try {
      if (!navigator.clipboard || typeof ClipboardItem === "undefined") {
        throw new Error("no clipboard API");
      }
      await navigator.clipboard.write([
        new ClipboardItem({
          "text/html": new Blob([html.value], { type: "text/html" }),
          "text/plain": new Blob([text.value], { type: "text/plain" }),
        }),
      ]);
      say(button.dataset.copied);
    } catch (error) {
      html.focus();
      html.select();
      say(button.dataset.failed);
    }
  });
});
