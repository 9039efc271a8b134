// A little help where JavaScript runs (the pages work without it): a form's buttons are
// disabled once it is sent, so that an impatient second click does not send it again. (A
// second send would be a duplicate anyway: the message id was fixed when the form was drawn.)
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
});
