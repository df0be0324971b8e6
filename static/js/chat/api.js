// The JSON API (/api/v1) with the session cookie and the CSRF token from <body hx-headers>.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "error";
    this.details = details || {};
  }
}

function csrfToken() {
  try {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

export class Api {
  constructor(root, loginUrl) {
    this.root = root.replace(/\/$/, "");
    this.loginUrl = loginUrl || "/login";
    this.csrf = csrfToken();
    /** The server's clock at the first answer (from the Date header), for the first sync. */
    this.serverDate = null;
  }

  url(path, params) {
    const u = new URL(this.root + path, window.location.origin);
    if (params) {
      for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
      }
    }
    return u.toString();
  }

  async request(method, path, { params, json, form } = {}) {
    const headers = { Accept: "application/json" };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    if (method !== "GET") headers["X-CSRFToken"] = this.csrf;
    let resp;
    try {
      resp = await fetch(this.url(path, params), {
        method,
        headers,
        body,
        credentials: "same-origin",
      });
    } catch (err) {
      throw new ApiError(0, "network", "The server cannot be reached.", {});
    }
    if (!this.serverDate) {
      const date = resp.headers.get("Date");
      if (date && !Number.isNaN(Date.parse(date))) this.serverDate = new Date(date);
    }
    let data = null;
    const type = resp.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      data = await resp.json().catch(() => null);
    }
    if (!resp.ok) {
      const e = (data && data.error) || {};
      if (resp.status === 401) {
        window.location.assign(`${this.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
      }
      throw new ApiError(resp.status, e.code, e.message, e.details);
    }
    return data;
  }

  get(path, params) {
    return this.request("GET", path, { params });
  }

  post(path, json) {
    return this.request("POST", path, { json });
  }

  patch(path, json) {
    return this.request("PATCH", path, { json });
  }

  /** POST /uploads: multipart file → Attachment. */
  upload(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return this.request("POST", "/uploads", { form });
  }
}
