// The header's "管理" menu is a <details> element and works without this file; here it only learns to close
// like a menu: on a click elsewhere, on Escape (focus back on its button) and when focus leaves it.
document.addEventListener("click", (event) => {
  for (const group of document.querySelectorAll("details[data-navgroup][open]")) {
    if (!group.contains(event.target)) group.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const group of document.querySelectorAll("details[data-navgroup][open]")) {
    group.open = false;
    group.querySelector("summary").focus();
  }
});
document.addEventListener("focusin", (event) => {
  for (const group of document.querySelectorAll("details[data-navgroup][open]")) {
    if (!group.contains(event.target)) group.open = false;
  }
});
