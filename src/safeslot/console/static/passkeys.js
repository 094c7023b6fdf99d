// Passkeys (WebAuthn) for the staff console: add one to your account; sign in with one.
// The browser's own JSON helpers (PublicKeyCredential.parse*OptionsFromJSON, toJSON) do the encoding.
(function () {
  "use strict";
  function status(text) { var el = document.getElementById("passkey-status"); if (el) { el.textContent = text; } }
  function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }
  var add = document.getElementById("add-passkey");
  if (add) {
    add.addEventListener("click", function () {
      var csrf = add.getAttribute("data-csrf"), el = document.getElementById("passkey-status");
      post("/api/v1/passkeys/registration-options", {}, csrf).then(function (options) {
        var publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
        return navigator.credentials.create({ publicKey: publicKey }).then(function (credential) {
          return post("/api/v1/passkeys", { state: options.state, credential: credential.toJSON() }, csrf);
        });
      }).then(function (done) {
        status(el.getAttribute("data-added"));
        var count = document.getElementById("passkey-count");
        if (count) { count.textContent = count.textContent.replace(/\d+$/, String(done.passkeys)); }
      }).catch(function () { status(el.getAttribute("data-failed")); });
    });
  }
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.addEventListener("click", function () {
      var el = document.getElementById("passkey-status");
      var username = (document.getElementById("username") || { value: "" }).value.trim();
      post("/api/v1/auth/passkey-options", { username: username }).then(function (options) {
        var publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
        return navigator.credentials.get({ publicKey: publicKey }).then(function (credential) {
          return post("/api/v1/auth/passkey-session", { state: options.state, credential: credential.toJSON() });
        });
      }).then(function () { window.location.assign("/console"); })
        .catch(function () { status(el.getAttribute("data-failed")); });
    });
  }
}());
