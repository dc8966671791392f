/**
 * The Hugging Face access token for gated and private models. It lives in this module's memory
 * (never in the store, history, share links or result records) and goes to the engine only inside a
 * Hub ModelSpec. When the user ticks "remember", it is also kept in this browser's localStorage under
 * HUB_TOKEN_KEY until they untick it.
 */

export const HUB_TOKEN_KEY = 'polyprune.hfToken';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled (privacy settings): memory only
  }
}

function readRemembered(): string {
  try {
    return storage()?.getItem(HUB_TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

let token = readRemembered();
let remembered = token !== '';

/** The token to send with Hub downloads ('' when none). */
export function hubToken(): string {
  return token;
}

/** Whether the token is kept in localStorage. */
export function hubTokenRemembered(): boolean {
  return remembered;
}

/**
 * Set the token; with `remember` it is written to localStorage, without it any remembered copy is
 * removed. Returns false when the browser refused to store it (it is then kept in memory only).
 */
export function setHubToken(value: string, remember: boolean): boolean {
  token = value.trim();
  remembered = remember && token !== '';
  const s = storage();
  try {
    if (remembered) s?.setItem(HUB_TOKEN_KEY, token);
    else s?.removeItem(HUB_TOKEN_KEY);
    return !remembered || s !== null;
  } catch {
    remembered = false;
    return false;
  }
}
