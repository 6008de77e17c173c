// The user the UI acts as: sent as X-Heron-User on every request (docs/rest-api.md,
// "Model registry"). Typed by the user in the header's settings box, kept in localStorage.

const KEY = "heron.user";

export function currentUser(): string {
  try {
    return localStorage.getItem(KEY) || "anonymous";
  } catch {
    return "anonymous"; // storage disabled (private mode, sandbox)
  }
}

export function setCurrentUser(name: string): void {
  localStorage.setItem(KEY, name.trim());
}
