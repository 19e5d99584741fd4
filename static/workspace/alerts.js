// Telling the agent something needs them, wherever they are looking: a short tone (the
// agent can mute it), a desktop notification while the page is not in front, and a count of
// offers plus unread customer messages in the page title and the favicon. Nothing here
// decides what counts: views call notify() and refreshAlerts(); the counts are read from
// state.js (offers, and each tab's unread), so a count can never drift from what the page shows.
import { offers, tabs } from "./state.js";

const MUTE_KEY = "workspace.sound.muted";
const baseTitle = document.title;
const favicon = document.getElementById("favicon");
const soundToggle = document.getElementById("sound-toggle");
// For an agent who is online already when the page opens (so never "goes online" here):
// a button to ask, rather than a prompt out of nowhere.
const notifyEnable = document.getElementById("notify-enable");

let audio = null; // AudioContext, made on the first user gesture (browsers refuse one before)

export function pageInFront() {
  return document.visibilityState === "visible" && document.hasFocus();
}

export function alertCount() {
  let unread = 0;
  for (const tab of tabs.values()) unread += tab.unread;
  return offers.size + unread;
}

// Title and favicon follow the count.
export function refreshAlerts() {
  const count = alertCount();
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  drawFavicon(count);
}

function drawFavicon(count) {
  if (!favicon) return;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const g = canvas.getContext("2d");
  g.fillStyle = "#2457c5";
  g.beginPath();
  g.roundRect(2, 4, 24, 20, 5);
  g.fill();
  g.beginPath();
  g.moveTo(8, 24);
  g.lineTo(8, 30);
  g.lineTo(14, 24);
  g.fill();
  if (count) {
    g.fillStyle = "#d92d20";
    g.beginPath();
    g.arc(22, 10, 10, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#fff";
    g.font = "bold 14px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(count > 9 ? "9+" : String(count), 22, 11);
  }
  favicon.href = canvas.toDataURL("image/png");
  favicon.dataset.count = String(count);
}

// --- Sound ---------------------------------------------------------------------------------

function muted() {
  return localStorage.getItem(MUTE_KEY) === "1";
}

function showMuted() {
  if (!soundToggle) return;
  const off = muted();
  soundToggle.setAttribute("aria-pressed", String(off));
  soundToggle.textContent = off ? "Sound off" : "Sound on";
}

// Two short sine notes made on the spot: no audio file to fetch or cache.
function playTone() {
  if (muted() || !audio) return;
  if (audio.state === "suspended") audio.resume();
  const now = audio.currentTime;
  for (const [offset, frequency] of [[0, 880], [0.16, 1175]]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.14);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(now + offset);
    oscillator.stop(now + offset + 0.15);
  }
}

function unlockAudio() {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!audio && AudioContextClass) audio = new AudioContextClass();
  if (audio && audio.state === "suspended") audio.resume();
}

// --- Desktop notifications ----------------------------------------------------------------

// Asked from a user gesture that shows the agent wants to be told (going online): browsers
// ignore or block a permission prompt that comes out of nowhere.
export function askNotificationPermission() {
  unlockAudio();
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().then(showNotifyEnable, showNotifyEnable);
  }
}

function showNotifyEnable() {
  if (notifyEnable) notifyEnable.hidden = !("Notification" in window) || Notification.permission !== "default";
}

function desktopNotify(title, body, tag, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const notification = new Notification(title, { body, tag, renotify: true });
    notification.onclick = () => {
      window.focus();
      if (onClick) onClick();
      notification.close();
    };
  } catch (error) {
    // Some browsers only allow notifications from a service worker; the title and sound still tell.
  }
}

// Something arrived: always recount, and play the tone (unless muted); the desktop
// notification only while the page is not in front, where the page itself cannot be seen.
// Callers do not notify about what the agent is looking at (the chat in front).
export function notify({ title, body, tag, onClick }) {
  refreshAlerts();
  playTone();
  if (!pageInFront()) desktopNotify(title, body, tag, onClick);
}

if (soundToggle) {
  soundToggle.addEventListener("click", () => {
    localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
    showMuted();
    unlockAudio();
    if (!muted()) playTone();
  });
  showMuted();
}
if (notifyEnable) {
  notifyEnable.addEventListener("click", askNotificationPermission);
  showNotifyEnable();
}
// Any first click or key press makes sound possible from then on.
document.addEventListener("pointerdown", unlockAudio, { once: true });
document.addEventListener("keydown", unlockAudio, { once: true });
refreshAlerts();
